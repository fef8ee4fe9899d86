// Video detail: the player (seekable: /media/ answers byte ranges), metadata, Save, Download, Delete;
// a job still running shows its status live from the server's event stream.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { append, fmtDate, fmtNumber, fmtRelative, h, replace, showError, toast } from "../ui.js";
import { navigate } from "../main.js";
import { statusText, TERMINAL, watchJob } from "./images-common.js";

export async function videoPage(main, [id]) {
  const controller = new AbortController();
  let video = await api(`/api/v1/videos/${id}`, { signal: controller.signal });
  const errors = h("div");
  const view = h("div");
  append(main, h("h1", {}, t("video.title")), view, errors);

  function render() {
    const out = video.outputs[0];
    const player = out
      ? h("video.player", { src: out.url, poster: out.poster_url || null, controls: true, preload: "metadata", playsinline: true,
                            width: out.width || video.width, height: out.height || video.height, "aria-label": video.prompt, translate: "no" })
      : h("p", { role: "status" }, statusText(video.status), video.error?.detail ? [" — ", h("span", { lang: "en", translate: "no" }, video.error.detail)] : "");
    const save = h("button", { type: "button", disabled: video.saved || video.status !== "completed" }, t(video.saved ? "media.saved" : "media.save"));
    const del = h("button.danger", { type: "button" }, t("chat.delete"));
    const clone = new URLSearchParams({ prompt: video.prompt, aspect_ratio: video.aspect_ratio, duration_s: String(video.duration_s) });
    if (video.source_image_id) clone.set("source_image_id", video.source_image_id);
    const actions = h("div.actions", {},
      h("a.button", { href: `/videos?${clone}`, "data-link": true }, t("media.clone")), save,
      out ? h("a.button", { href: out.url, download: `${video.id}.mp4` }, t("media.download")) : null, del);
    save.addEventListener("click", async () => {
      try { video = await api(`/api/v1/videos/${video.id}/save`, { method: "POST" }); toast(t("media.savedNote")); render(); }
      catch (error) { showError(errors, error); }
    });
    del.addEventListener("click", async () => {
      if (!confirm(t("video.confirmDelete"))) return;
      try { await api(`/api/v1/videos/${video.id}`, { method: "DELETE" }); toast(t("video.deleted")); navigate("/videos"); }
      catch (error) { showError(errors, error); }
    });
    replace(view, h("div.detail", {},
      h("div", {}, player),
      h("div", {}, actions,
        h("dl.meta", {},
          h("dt", {}, t("media.prompt")), h("dd", { translate: "no" }, video.prompt),
          h("dt", {}, t("media.kind")), h("dd", {}, t(video.kind === "image_to_video" ? "video.fromImage" : "video.fromText")),
          video.source_image_id ? h("dt", {}, t("video.source")) : null,
          video.source_image_id ? h("dd", {}, h("a", { href: `/images/${video.source_image_id}`, "data-link": true }, video.source_image_id)) : null,
          h("dt", {}, t("video.length")), h("dd", {}, t(video.fps ? "video.lengthFps" : "media.seconds", { n: video.duration_s, fps: video.fps })),
          h("dt", {}, t("media.size")), h("dd", {}, `${out?.width || video.width}×${out?.height || video.height} (${video.aspect_ratio})`),
          h("dt", {}, t("media.provider")), h("dd", { translate: "no" }, video.provider || "—"),
          h("dt", {}, t("video.status")), h("dd", { "data-status": video.status }, statusText(video.status)),
          h("dt", {}, t("media.created")), h("dd", {}, fmtDate(video.created_at)),
          h("dt", {}, t("media.expires")), h("dd", {}, video.saved ? t("media.never") : video.expires_at ? `${fmtDate(video.expires_at)} (${fmtRelative(video.expires_at)})` : "—"),
          h("dt", {}, t("nav.credits")), h("dd", {}, fmtNumber(video.credits_charged))))));
  }
  render();
  if (!TERMINAL.has(video.status)) {
    watchJob("videos", video.id, { signal: controller.signal, onUpdate: (v) => { video = v; render(); } }).catch(() => {});
  }
  return () => controller.abort();
}
