// Videos: text-to-video or image-to-video (from one of your images), priced per second; live job
// status pushed by the server; your recent and saved videos.
import { api, newIdempotencyKey } from "../api.js";
import { loadPlans, refreshCredits } from "../state.js";
import { t } from "../i18n.js";
import { append, field, h, prepend, showError, swap } from "../ui.js";
import { statusText, videoTile, watchJob } from "./images-common.js";

const RATIOS = ["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3"];

export async function videosPage(main, _params, query) {
  const plans = await loadPlans();
  const perSecond = plans.prices.video_per_second ?? 10;
  const controller = new AbortController();
  const tab = query.get("tab") === "saved" ? "saved" : "recent";
  const prompt = h("textarea", { name: "prompt", rows: 3, required: true, maxlength: "2000" });
  prompt.value = query.get("prompt") || "";
  const source = h("select", { name: "source_image_id" }, h("option", { value: "" }, t("videos.noSource")));
  const duration = h("input", { name: "duration_s", type: "number", min: "1", max: "10", step: "1", value: query.get("duration_s") || "5", required: true });
  const ratio = h("select", { name: "aspect_ratio" }, RATIOS.map((r) => h("option", { value: r, selected: r === (query.get("aspect_ratio") || "16:9") }, r)));
  const cost = h("p.hint", { "aria-live": "polite" });
  const status = h("p", { role: "status", "aria-live": "polite" });
  const errors = h("div");
  const results = h("div.grid", { role: "region", "aria-label": t(tab === "saved" ? "videos.saved" : "videos.yours") });
  const more = h("button", { type: "button", hidden: true }, t("media.loadMore"));
  const submit = h("button.primary", { type: "submit" }, t("videos.make"));
  const seconds = () => Math.max(1, Math.min(10, Math.round(Number(duration.value) || 5)));
  const updateCost = () => { cost.textContent = t("videos.cost", { credits: t("credits.count", { count: seconds() * perSecond }), each: perSecond }); };
  duration.addEventListener("input", updateCost);
  const form = h("form.card", {},
    field(t("media.prompt"), prompt),
    h("div.row", {}, field(t("videos.source"), source, t("videos.sourceHint")),
      field(t("videos.length"), duration), field(t("media.ratio"), ratio)),
    cost, h("div.actions", {}, submit), status, errors);
  append(main, h("h1", {}, t("nav.videos")), form,
    h("nav.tabs", { "aria-label": t("videos.sections") },
      h("a", { href: "/videos", "data-link": true, "aria-current": tab === "recent" ? "page" : null }, t("media.recent")),
      h("a", { href: "/videos?tab=saved", "data-link": true, "aria-current": tab === "saved" ? "page" : null }, t("media.savedTab"))),
    results, h("div.actions", {}, more));
  updateCost();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    submit.disabled = true;
    status.textContent = t("media.submitting");
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
        status.textContent = statusText(video.status);
        showTile(video);
      } });
      showTile(done);
      if (done.status === "failed") {
        showError(errors, { code: done.error?.code, detail: t("videos.failed"), requestId: done.request_id });
        status.textContent = t("status.failed");
        refreshCredits().catch(() => {});
      } else {
        status.textContent = t("videos.done", { n: done.duration_s });
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
      if (!results.children.length) append(results, h("p.muted", {}, t(tab === "saved" ? "videos.noneSaved" : "videos.none")));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (error) { if (error?.name !== "AbortError") showError(errors, error); }
  }
  more.addEventListener("click", load);
  try {
    const images = await api("/api/v1/images?status=completed&limit=50", { signal: controller.signal });
    append(source, ...images.items.map((img) => h("option", { value: img.id, selected: img.id === query.get("source_image_id"), translate: "no" }, img.prompt.slice(0, 60))));
  } catch { /* image-to-video needs the list; text-to-video still works */ }
  await load();
  return () => controller.abort();
}
