// Edit (upload or pick from the gallery, prompt, optional mask) and Describe (fursona or custom).
import { api, newIdempotencyKey } from "../api.js";
import { renderMarkdown } from "../markdown.js";
import { loadPlans, refreshCredits, state } from "../state.js";
import { append, field, h, prepend, replace, showError } from "../ui.js";
import { STATUS_TEXT, tile, watchImage } from "./images-common.js";

const ACCEPT = "image/png,image/jpeg,image/webp";

function limitsText() {
  return `PNG, JPEG or WebP, up to ${state.config?.max_upload_mb ?? 10} MB.`;
}

async function sourcePicker(query) {
  const file = h("input", { type: "file", name: "image", accept: ACCEPT });
  const pick = h("select", { name: "source_image_id" }, h("option", { value: "" }, "— or pick one from your gallery —"));
  try {
    const page = await api("/api/v1/images?status=completed&limit=50");
    for (const img of page.items) append(pick, h("option", { value: img.id, selected: img.id === query.get("source") }, img.prompt.slice(0, 60)));
  } catch { /* uploads still work */ }
  const tooBig = (f) => f && f.size > (state.config?.max_upload_mb ?? 10) * 1024 * 1024;
  return {
    controls: [field("Picture to use", file, limitsText()), field("Or an image from your gallery", pick)],
    /** Adds the source to `form`; returns an error text when there is none or it is too big. */
    addTo(form) {
      const f = file.files[0];
      if (f) {
        if (tooBig(f)) return `That file is ${(f.size / 1048576).toFixed(1)} MB; the limit is ${state.config?.max_upload_mb ?? 10} MB.`;
        form.append("image", f);
      } else if (pick.value) form.append("source_image_id", pick.value);
      else return "Choose a picture to upload or one from your gallery.";
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
  const results = h("div.grid", { role: "region", "aria-label": "Edited images" });
  const submit = h("button.primary", { type: "submit" }, "Edit image");
  const form = h("form.card", {}, ...source.controls, field("What to change", prompt),
    field("Mask (optional)", mask, "Transparent areas of the mask are the parts to repaint. " + limitsText()),
    h("p.hint", {}, `Costs ${plans.prices.image_edit} credits.`), h("div.actions", {}, submit), status, errors);
  append(main, h("h1", {}, "Edit an image"), form, results);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    const data = new FormData();
    const problem = source.addTo(data);
    if (problem) { showError(errors, { code: "validation_error", detail: problem, errors: [{ loc: [], msg: problem }] }); return; }
    data.append("prompt", prompt.value.trim());
    if (mask.files[0]) data.append("mask", mask.files[0]);
    submit.disabled = true;
    status.textContent = "Uploading…";
    try {
      const job = await api("/api/v1/images/edits", { method: "POST", form: data, idempotent: true, idempotencyKey: newIdempotencyKey(), signal: controller.signal });
      const done = await watchImage(job.id, { signal: controller.signal, onUpdate: (img) => { status.textContent = STATUS_TEXT[img.status] || img.status; } });
      prepend(results, tile(done));
      status.textContent = done.status === "completed" ? "Done: the edited image is in your gallery." : "The edit failed; your credits were refunded.";
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
  const output = h("div.card", { hidden: true, "aria-label": "Description" });
  const submit = h("button.primary", { type: "submit" }, "Describe");
  const form = h("form.card", {}, ...source.controls,
    h("fieldset", {}, h("legend", {}, "What kind of description"),
      h("label.inline", {}, fursona, "Fursona: the animal character this picture suggests"),
      h("label.inline", {}, custom, "My own instruction")),
    field("Instruction", instruction, "For example: “List the colours in this picture.”"),
    h("p.hint", {}, `Costs ${plans.prices.image_describe} credit${plans.prices.image_describe === 1 ? "" : "s"}.`),
    h("div.actions", {}, submit), status, errors);
  append(main, h("h1", {}, "Describe an image"), form, output);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    const data = new FormData();
    const problem = source.addTo(data);
    if (problem) { showError(errors, { code: "validation_error", detail: problem, errors: [{ loc: [], msg: problem }] }); return; }
    if (custom.checked) data.append("instruction", instruction.value.trim()); else data.append("preset", "fursona");
    submit.disabled = true;
    status.textContent = "Looking at the picture…";
    try {
      const answer = await api("/api/v1/images/describe", { method: "POST", form: data, idempotent: true });
      output.hidden = false;
      replace(output, h("h2", {}, "Description"), renderMarkdown(answer.description),
        h("p.muted.small", {}, `${answer.provider} · ${answer.model} · ${answer.credits_charged} credit${answer.credits_charged === 1 ? "" : "s"}`));
      status.textContent = "Done.";
      refreshCredits().catch(() => {});
    } catch (error) { status.textContent = ""; showError(errors, error); }
    finally { submit.disabled = false; }
  });
}
