// Image studio: prompt, negative prompt, aspect ratio, outputs, seed, model; live job status.
import { api, newIdempotencyKey } from "../api.js";
import { loadPlans, refreshCredits } from "../state.js";
import { t } from "../i18n.js";
import { append, field, h, prepend, replace, showError, swap } from "../ui.js";
import { statusText, tile, watchImage } from "./images-common.js";

const RATIOS = ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"];

export async function studioPage(main, _params, query) {
  const plans = await loadPlans();
  const controller = new AbortController();
  const prompt = h("textarea", { name: "prompt", rows: 3, required: true, maxlength: "2000" });
  prompt.value = query.get("prompt") || "";
  const negative = h("textarea", { name: "negative_prompt", rows: 2, maxlength: "2000" });
  negative.value = query.get("negative_prompt") || "";
  const ratio = h("select", { name: "aspect_ratio" }, RATIOS.map((r) => h("option", { value: r, selected: r === (query.get("aspect_ratio") || "1:1") }, r)));
  const count = h("input", { name: "num_outputs", type: "number", min: "1", max: "4", value: query.get("num_outputs") || "1", required: true });
  const seed = h("input", { name: "seed", type: "number", min: "0", step: "1", value: query.get("seed") || "", inputmode: "numeric" });
  const model = h("input", { name: "model", value: query.get("model") || "default", list: "image-models", required: true });
  const modelList = h("datalist", { id: "image-models" }, ["default", "replicate", "openai", "local"].map((m) => h("option", { value: m })));
  const cost = h("p.hint", { "aria-live": "polite" });
  const status = h("p", { role: "status", "aria-live": "polite" });
  const errors = h("div");
  const results = h("div.grid", { role: "region", "aria-label": t("studio.results") });
  const submit = h("button.primary", { type: "submit" }, t("studio.generate"));
  const updateCost = () => {
    const n = Math.max(1, Math.min(4, Number(count.value) || 1));
    cost.textContent = t("studio.cost", { credits: t("credits.count", { count: n * plans.prices.image }), each: plans.prices.image });
  };
  count.addEventListener("input", updateCost);
  const form = h("form.card", {},
    field(t("media.prompt"), prompt), field(t("studio.negative"), negative, t("studio.negativeHint")),
    h("div.row", {}, field(t("media.ratio"), ratio), field(t("studio.count"), count), field(t("studio.seed"), seed, t("studio.seedHint")),
      field(t("chat.model"), model, t("studio.modelHint")), modelList),
    cost, h("div.actions", {}, submit), status, errors);
  append(main, h("h1", {}, t("studio.title")), form, h("h2", {}, t("studio.results")), results);
  updateCost();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    submit.disabled = true;
    status.textContent = t("media.submitting");
    const body = { prompt: prompt.value.trim(), aspect_ratio: ratio.value, num_outputs: Number(count.value) || 1,
                   model: model.value.trim() || "default" };
    if (negative.value.trim()) body.negative_prompt = negative.value.trim();
    if (seed.value !== "") body.seed = Number(seed.value);
    try {
      const job = await api("/api/v1/images", { method: "POST", body, idempotent: true, idempotencyKey: newIdempotencyKey(), signal: controller.signal });
      const placeholder = tile(job);
      prepend(results, placeholder);
      const done = await watchImage(job.id, { signal: controller.signal, onUpdate: (img) => {
        status.textContent = statusText(img.status);
      } });
      swap(placeholder, tile(done));
      if (done.status === "failed") {
        showError(errors, { code: done.error?.code, detail: t("studio.failed"), requestId: done.request_id });
        status.textContent = t("status.failed");
      } else {
        status.textContent = t("studio.done", { count: done.outputs.length });
      }
      refreshCredits().catch(() => {});
    } catch (error) {
      if (error?.name === "AbortError") return;
      status.textContent = "";
      showError(errors, error);
    } finally {
      submit.disabled = false;
    }
  });

  try {
    const recent = await api("/api/v1/images?limit=8", { signal: controller.signal });
    replace(results, recent.items.map(tile));
  } catch { /* the gallery shows the details */ }
  return () => controller.abort();
}
