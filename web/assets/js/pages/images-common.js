// Shared by the image pages: tiles, job polling and the status line.
import { api } from "../api.js";
import { fmtRelative, h } from "../ui.js";

export const TERMINAL = new Set(["completed", "failed", "expired"]);
export const STATUS_TEXT = { queued: "Queued…", in_progress: "Generating…", completed: "Done", failed: "Failed", expired: "Expired" };

/** Poll an image until it settles; onUpdate(resource) on each change. Stops when signal aborts. */
export async function pollImage(id, { onUpdate, signal }) {
  let delay = 400;
  let last = "";
  for (let i = 0; i < 400; i++) {
    const image = await api(`/api/v1/images/${id}`, { signal });
    if (image.status !== last) { last = image.status; onUpdate?.(image); }
    if (TERMINAL.has(image.status)) return image;
    await new Promise((resolve, reject) => {
      const t = setTimeout(resolve, delay);
      signal?.addEventListener("abort", () => { clearTimeout(t); reject(signal.reason); }, { once: true });
    });
    delay = Math.min(delay * 1.3, 2000);
  }
  throw new Error("The image is taking too long; check the gallery later.");
}

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
