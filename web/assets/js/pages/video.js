// Video detail: the player (seekable: /media/ answers byte ranges), metadata, Save, Download, Delete;
// a job still running shows its status live from the server's event stream.
import { api } from "../api.js";
import { append, fmtDate, fmtRelative, h, replace, showError, toast } from "../ui.js";
import { navigate } from "../main.js";
import { STATUS_TEXT, TERMINAL, watchJob } from "./images-common.js";

export async function videoPage(main, [id]) {
  const controller = new AbortController();
  let video = await api(`/api/v1/videos/${id}`, { signal: controller.signal });
  const errors = h("div");
  const view = h("div");
  append(main, h("h1", {}, "Video"), view, errors);

  function render() {
    const out = video.outputs[0];
    const player = out
      ? h("video.player", { src: out.url, poster: out.poster_url || null, controls: true, preload: "metadata", playsinline: true,
                            width: out.width || video.width, height: out.height || video.height, "aria-label": video.prompt })
      : h("p", { role: "status" }, STATUS_TEXT[video.status] || video.status, video.error?.detail ? ` — ${video.error.detail}` : "");
    const save = h("button", { type: "button", disabled: video.saved || video.status !== "completed" }, video.saved ? "Saved" : "Save");
    const del = h("button.danger", { type: "button" }, "Delete");
    const clone = new URLSearchParams({ prompt: video.prompt, aspect_ratio: video.aspect_ratio, duration_s: String(video.duration_s) });
    if (video.source_image_id) clone.set("source_image_id", video.source_image_id);
    const actions = h("div.actions", {},
      h("a.button", { href: `/videos?${clone}`, "data-link": true }, "Clone prompt"), save,
      out ? h("a.button", { href: out.url, download: `${video.id}.mp4` }, "Download") : null, del);
    save.addEventListener("click", async () => {
      try { video = await api(`/api/v1/videos/${video.id}/save`, { method: "POST" }); toast("Saved: it will not expire."); render(); }
      catch (error) { showError(errors, error); }
    });
    del.addEventListener("click", async () => {
      if (!confirm("Delete this video? Its files are removed.")) return;
      try { await api(`/api/v1/videos/${video.id}`, { method: "DELETE" }); toast("Video deleted."); navigate("/videos"); }
      catch (error) { showError(errors, error); }
    });
    replace(view, h("div.detail", {},
      h("div", {}, player),
      h("div", {}, actions,
        h("dl.meta", {},
          h("dt", {}, "Prompt"), h("dd", {}, video.prompt),
          h("dt", {}, "Kind"), h("dd", {}, video.kind === "image_to_video" ? "From an image" : "From text"),
          video.source_image_id ? h("dt", {}, "Source image") : null,
          video.source_image_id ? h("dd", {}, h("a", { href: `/images/${video.source_image_id}`, "data-link": true }, video.source_image_id)) : null,
          h("dt", {}, "Length"), h("dd", {}, `${video.duration_s} s${video.fps ? ` at ${video.fps} fps` : ""}`),
          h("dt", {}, "Size"), h("dd", {}, `${out?.width || video.width}×${out?.height || video.height} (${video.aspect_ratio})`),
          h("dt", {}, "Provider"), h("dd", {}, video.provider || "—"),
          h("dt", {}, "Status"), h("dd", { "data-status": video.status }, STATUS_TEXT[video.status] || video.status),
          h("dt", {}, "Created"), h("dd", {}, fmtDate(video.created_at)),
          h("dt", {}, "Expires"), h("dd", {}, video.saved ? "Never (saved)" : video.expires_at ? `${fmtDate(video.expires_at)} (${fmtRelative(video.expires_at)})` : "—"),
          h("dt", {}, "Credits"), h("dd", {}, String(video.credits_charged))))));
  }
  render();
  if (!TERMINAL.has(video.status)) {
    watchJob("videos", video.id, { signal: controller.signal, onUpdate: (v) => { video = v; render(); } }).catch(() => {});
  }
  return () => controller.abort();
}
