// Shared by the image and video pages: tiles, live job status (pushed by the server) and the status line.
import { api, followJob } from "../api.js";
import { t, tValue } from "../i18n.js";
import { fmtRelative, h } from "../ui.js";

export const TERMINAL = new Set(["completed", "failed", "expired"]);
/** A job's status in words (status.<status> of the catalogue). */
export const statusText = (status) => tValue("status", status);

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
  throw new Error(t("media.tooLong"));
}

export const watchImage = (id, options) => watchJob("images", id, options);

export function tile(image) {
  const out = image.outputs?.[0];
  const picture = out
    ? h("img", { src: out.url, alt: image.prompt, loading: "lazy", width: out.width || image.width, height: out.height || image.height, translate: "no" })
    : h("div.muted", { role: "img", "aria-label": statusText(image.status) }, "");
  const note = image.saved ? t("media.saved") : image.status !== "completed" ? statusText(image.status)
    : image.expires_at ? t("media.expiresIn", { when: fmtRelative(image.expires_at) }) : "";
  return h("a.tile", { href: `/images/${image.id}`, "data-link": true },
    picture, h("div.cap", {}, h("p", { translate: "no" }, image.prompt), h("span.muted.small", {}, note)));
}

/** A video's tile: its poster (or status), prompt, length and expiry. */
export function videoTile(video) {
  const out = video.outputs?.[0];
  const picture = out?.poster_url
    ? h("img", { src: out.poster_url, alt: video.prompt, loading: "lazy", width: out.width || video.width, height: out.height || video.height, translate: "no" })
    : h("div.muted", { role: "img", "aria-label": statusText(video.status) }, "");
  const note = video.saved ? t("media.saved") : video.status !== "completed" ? statusText(video.status)
    : video.expires_at ? t("media.expiresIn", { when: fmtRelative(video.expires_at) }) : "";
  return h("a.tile", { href: `/videos/${video.id}`, "data-link": true },
    picture, h("div.cap", {}, h("p", { translate: "no" }, video.prompt), h("span.muted.small", {}, t("media.seconds", { n: video.duration_s }), " · ", note)));
}
