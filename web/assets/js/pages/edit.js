// Edit (upload or pick from the gallery, prompt, optional mask) and Describe (fursona or custom).
import { api, newIdempotencyKey } from "../api.js";
import { renderMarkdown } from "../markdown.js";
import { loadPlans, refreshCredits, state } from "../state.js";
import { t } from "../i18n.js";
import { append, field, fmtNumber, h, prepend, replace, showError } from "../ui.js";
import { statusText, tile, watchImage } from "./images-common.js";

const ACCEPT = "image/png,image/jpeg,image/webp";

/**
 * A file field in the app's language: the browser's own file input writes "Choose File / No file
 * chosen" in the browser's language (seen in the German screenshots), so it is kept for screen
 * readers and the keyboard only, and a button-styled label and the chosen name show instead.
 */
function fileField(labelText, input, hint) {
  input.classList.add("visually-hidden");
  const chosen = h("span.muted.small", { translate: "no" });
  const none = h("span.muted.small", {}, t("edit.noFile"));
  input.addEventListener("change", () => {
    chosen.textContent = input.files[0]?.name || "";
    none.hidden = Boolean(input.files[0]);
  });
  const [label, ...rest] = field(labelText, input, hint).children;
  return h("div.field", {}, label,
    h("div.actions.file", {}, h("label.button", { for: input.id }, t("edit.chooseFile")), none, chosen), rest);
}

function limitsText() {
  return t("edit.limits", { mb: state.config?.max_upload_mb ?? 10 });
}

async function sourcePicker(query) {
  const file = h("input", { type: "file", name: "image", accept: ACCEPT });
  const pick = h("select", { name: "source_image_id" }, h("option", { value: "" }, t("edit.pickNone")));
  try {
    const page = await api("/api/v1/images?status=completed&limit=50");
    for (const img of page.items) append(pick, h("option", { value: img.id, selected: img.id === query.get("source"), translate: "no" }, img.prompt.slice(0, 60)));
  } catch { /* uploads still work */ }
  const tooBig = (f) => f && f.size > (state.config?.max_upload_mb ?? 10) * 1024 * 1024;
  return {
    controls: [fileField(t("edit.picture"), file, limitsText()), field(t("edit.orGallery"), pick)],
    /** Adds the source to `form`; returns an error text when there is none or it is too big. */
    addTo(form) {
      const f = file.files[0];
      if (f) {
        if (tooBig(f)) return t("edit.tooBig", { size: fmtNumber(f.size / 1048576, { maximumFractionDigits: 1 }), mb: state.config?.max_upload_mb ?? 10 });
        form.append("image", f);
      } else if (pick.value) form.append("source_image_id", pick.value);
      else return t("edit.noSource");
      return null;
    },
  };
}

export async function editPage(main, _params, query) {
  const plans = await loadPlans();
  const controller = new AbortController();
  const source = await sourcePicker(query);
  const prompt = h("textarea", { name: "prompt", rows: 3, required: true, maxlength: "2000" });
  const mask = h("input", { type: "file", name: "mask", accept: ACCEPT });
  const status = h("p", { role: "status", "aria-live": "polite" });
  const errors = h("div");
  const results = h("div.grid", { role: "region", "aria-label": t("edit.results") });
  const submit = h("button.primary", { type: "submit" }, t("edit.submit"));
  const form = h("form.card", {}, ...source.controls, field(t("edit.what"), prompt),
    fileField(t("edit.mask"), mask, `${t("edit.maskHint")} ${limitsText()}`),
    h("p.hint", {}, t("media.costs", { credits: t("credits.count", { count: plans.prices.image_edit }) })), h("div.actions", {}, submit), status, errors);
  append(main, h("h1", {}, t("edit.title")), form, results);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    const data = new FormData();
    const problem = source.addTo(data);
    if (problem) { showError(errors, { code: "validation_error", detail: problem, errors: [{ loc: [], msg: problem }] }); return; }
    data.append("prompt", prompt.value.trim());
    if (mask.files[0]) data.append("mask", mask.files[0]);
    submit.disabled = true;
    status.textContent = t("edit.uploading");
    try {
      const job = await api("/api/v1/images/edits", { method: "POST", form: data, idempotent: true, idempotencyKey: newIdempotencyKey(), signal: controller.signal });
      const done = await watchImage(job.id, { signal: controller.signal, onUpdate: (img) => { status.textContent = statusText(img.status); } });
      prepend(results, tile(done));
      status.textContent = t(done.status === "completed" ? "edit.done" : "edit.failed");
      refreshCredits().catch(() => {});
    } catch (error) {
      if (error?.name !== "AbortError") { status.textContent = ""; showError(errors, error); }
    } finally { submit.disabled = false; }
  });
  return () => controller.abort();
}

export async function describePage(main, _params, query) {
  const plans = await loadPlans();
  const source = await sourcePicker(query);
  const fursona = h("input", { type: "radio", name: "mode", value: "fursona", checked: true });
  const custom = h("input", { type: "radio", name: "mode", value: "custom" });
  const instruction = h("textarea", { name: "instruction", rows: 2, maxlength: "2000", disabled: true });
  const toggle = () => { instruction.disabled = !custom.checked; };
  fursona.addEventListener("change", toggle);
  custom.addEventListener("change", toggle);
  const status = h("p", { role: "status", "aria-live": "polite" });
  const errors = h("div");
  const output = h("div.card", { hidden: true, "aria-label": t("describe.description") });
  const submit = h("button.primary", { type: "submit" }, t("nav.describe"));
  const form = h("form.card", {}, ...source.controls,
    h("fieldset", {}, h("legend", {}, t("describe.kind")),
      h("label.inline", {}, fursona, t("describe.fursona")),
      h("label.inline", {}, custom, t("describe.custom"))),
    field(t("describe.instruction"), instruction, t("describe.instructionHint")),
    h("p.hint", {}, t("media.costs", { credits: t("credits.count", { count: plans.prices.image_describe }) })),
    h("div.actions", {}, submit), status, errors);
  append(main, h("h1", {}, t("describe.title")), form, output);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    const data = new FormData();
    const problem = source.addTo(data);
    if (problem) { showError(errors, { code: "validation_error", detail: problem, errors: [{ loc: [], msg: problem }] }); return; }
    if (custom.checked) data.append("instruction", instruction.value.trim()); else data.append("preset", "fursona");
    submit.disabled = true;
    status.textContent = t("describe.looking");
    try {
      const answer = await api("/api/v1/images/describe", { method: "POST", form: data, idempotent: true });
      output.hidden = false;
      replace(output, h("h2", {}, t("describe.description")), h("div", { translate: "no" }, renderMarkdown(answer.description)),
        h("p.muted.small", {}, h("span", { translate: "no" }, `${answer.provider} · ${answer.model}`), " · ",
          t("credits.count", { count: answer.credits_charged })));
      status.textContent = t("describe.done");
      refreshCredits().catch(() => {});
    } catch (error) { status.textContent = ""; showError(errors, error); }
    finally { submit.disabled = false; }
  });
}
