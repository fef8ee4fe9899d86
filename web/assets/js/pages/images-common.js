// Shared by the image and video pages: tiles, live job status (pushed by the server) and the status line.
import { api, followJob } from "../api.js";
import { fmtRelative, h } from "../ui.js";

export const TERMINAL = new Set(["completed", "failed", "expired"]);
export const STATUS_TEXT = { queued: "Queued…", in_progress: "Generating…", completed: "Done", failed: "Failed", expired: "Expired" };

/**
 * Follow a job (`kind` images or videos) until it settles, from the server's event stream (no
 * polling); onUpdate(resource) on each status. If the stream ends early (the server's time
 * budget), it is opened again, a few times at most. Stops when signal aborts.
 */
export async function watchJob(kind, id, { onUpdate, signal }) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const last = await followJob(kind, id, { signal, onStatus: onUpdate });
    if (last && TERMINAL.has(last.status)) return last;
  }
  const resource = await api(`/api/v1/${kind}/${id}`, { signal });
  if (TERMINAL.has(resource.status)) return resource;
  throw new Error("This is taking too long; check back later.");
}

export const watchImage = (id, options) => watchJob("images", id, options);

export function tile(image) {
  const out = image.outputs?.[0];
  const picture = out
    ? h("img", { src: out.url, alt: image.prompt, loading: "lazy", width: out.width || image.width, height: out.height || image.height })
    : h("div.muted", { role: "img", "aria-label": STATUS_TEXT[image.status] || image.status }, "");
  const note = image.saved ? "Saved" : image.status !== "completed" ? STATUS_TEXT[image.status] || image.status
    : image.expires_at ? `Expires ${fmtRelative(image.expires_at)}` : "";
  return h("a.tile", { href: `/images/${image.id}`, "data-link": true },
    picture, h("div.cap", {}, h("p", {}, image.prompt), h("span.muted.small", {}, note)));
}

/** A video's tile: its poster (or status), prompt, length and expiry. */
export function videoTile(video) {
  const out = video.outputs?.[0];
  const picture = out?.poster_url
    ? h("img", { src: out.poster_url, alt: video.prompt, loading: "lazy", width: out.width || video.width, height: out.height || video.height })
    : h("div.muted", { role: "img", "aria-label": STATUS_TEXT[video.status] || video.status }, "");
  const note = video.saved ? "Saved" : video.status !== "completed" ? STATUS_TEXT[video.status] || video.status
    : video.expires_at ? `Expires ${fmtRelative(video.expires_at)}` : "";
  return h("a.tile", { href: `/videos/${video.id}`, "data-link": true },
    picture, h("div.cap", {}, h("p", {}, video.prompt), h("span.muted.small", {}, `${video.duration_s} s · ${note}`)));
}
