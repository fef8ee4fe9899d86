// Videos: text-to-video or image-to-video (from one of your images), priced per second; live job
// status pushed by the server; your recent and saved videos.
import { api, newIdempotencyKey } from "../api.js";
import { loadPlans, refreshCredits } from "../state.js";
import { append, field, h, prepend, showError, swap } from "../ui.js";
import { STATUS_TEXT, videoTile, watchJob } from "./images-common.js";

const RATIOS = ["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3"];

export async function videosPage(main, _params, query) {
  const plans = await loadPlans();
  const perSecond = plans.prices.video_per_second ?? 10;
  const controller = new AbortController();
  const tab = query.get("tab") === "saved" ? "saved" : "recent";
  const prompt = h("textarea", { name: "prompt", rows: 3, required: true, maxlength: "2000" });
  prompt.value = query.get("prompt") || "";
  const source = h("select", { name: "source_image_id" }, h("option", { value: "" }, "None: from the prompt only"));
  const duration = h("input", { name: "duration_s", type: "number", min: "1", max: "10", step: "1", value: query.get("duration_s") || "5", required: true });
  const ratio = h("select", { name: "aspect_ratio" }, RATIOS.map((r) => h("option", { value: r, selected: r === (query.get("aspect_ratio") || "16:9") }, r)));
  const cost = h("p.hint", { "aria-live": "polite" });
  const status = h("p", { role: "status", "aria-live": "polite" });
  const errors = h("div");
  const results = h("div.grid", { role: "region", "aria-label": tab === "saved" ? "Saved videos" : "Your videos" });
  const more = h("button", { type: "button", hidden: true }, "Load more");
  const submit = h("button.primary", { type: "submit" }, "Make video");
  const seconds = () => Math.max(1, Math.min(10, Math.round(Number(duration.value) || 5)));
  const updateCost = () => { cost.textContent = `Costs ${seconds() * perSecond} credits (${perSecond} per second).`; };
  duration.addEventListener("input", updateCost);
  const form = h("form.card", {},
    field("Prompt", prompt),
    h("div.row", {}, field("Start from image (optional)", source, "One of your finished images becomes the first frame."),
      field("Length (seconds)", duration), field("Aspect ratio", ratio)),
    cost, h("div.actions", {}, submit), status, errors);
  append(main, h("h1", {}, "Videos"), form,
    h("nav.tabs", { "aria-label": "Video sections" },
      h("a", { href: "/videos", "data-link": true, "aria-current": tab === "recent" ? "page" : null }, "Recent"),
      h("a", { href: "/videos?tab=saved", "data-link": true, "aria-current": tab === "saved" ? "page" : null }, "Saved")),
    results, h("div.actions", {}, more));
  updateCost();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    submit.disabled = true;
    status.textContent = "Submitting…";
    const body = { prompt: prompt.value.trim(), duration_s: seconds(), aspect_ratio: ratio.value };
    if (source.value) body.source_image_id = source.value;
    try {
      const job = await api("/api/v1/videos", { method: "POST", body, idempotent: true, idempotencyKey: newIdempotencyKey(), signal: controller.signal });
      refreshCredits().catch(() => {});
      const placeholder = videoTile(job);
      results.querySelector(":scope > p.muted")?.remove();  // the "no videos yet" note
      prepend(results, placeholder);
      const showTile = (video) => { const old = results.querySelector(`a[href="/videos/${job.id}"]`); if (old) swap(old, videoTile(video)); };
      const done = await watchJob("videos", job.id, { signal: controller.signal, onUpdate: (video) => {
        status.textContent = STATUS_TEXT[video.status] || video.status;
        showTile(video);
      } });
      showTile(done);
      if (done.status === "failed") {
        showError(errors, { code: done.error?.code, detail: `${done.error?.detail || "The video could not be made."} Your credits were refunded.`, requestId: done.request_id });
        status.textContent = "Failed.";
        refreshCredits().catch(() => {});
      } else {
        status.textContent = `Done: a ${done.duration_s}-second video is ready.`;
      }
    } catch (error) {
      if (error?.name === "AbortError") return;
      status.textContent = "";
      showError(errors, error);
    } finally {
      submit.disabled = false;
    }
  });

  let cursor = null;
  async function load() {
    const params = new URLSearchParams({ limit: "24", saved: tab === "saved" ? "true" : "false" });
    if (cursor) params.set("cursor", cursor);
    try {
      const page = await api(`/api/v1/videos?${params}`, { signal: controller.signal });
      append(results, ...page.items.map(videoTile));
      if (!results.children.length) append(results, h("p.muted", {}, tab === "saved" ? "No saved videos yet." : "No videos yet. Make one above."));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (error) { if (error?.name !== "AbortError") showError(errors, error); }
  }
  more.addEventListener("click", load);
  try {
    const images = await api("/api/v1/images?status=completed&limit=50", { signal: controller.signal });
    append(source, ...images.items.map((img) => h("option", { value: img.id, selected: img.id === query.get("source_image_id") }, img.prompt.slice(0, 60))));
  } catch { /* image-to-video needs the list; text-to-video still works */ }
  await load();
  return () => controller.abort();
}
