// Image detail: the picture at its aspect ratio, metadata, Clone prompt, Save, Share, Download, Delete.
import { api } from "../api.js";
import { append, copyButton, fmtDate, fmtRelative, h, replace, showError, toast } from "../ui.js";
import { navigate } from "../main.js";
import { STATUS_TEXT, watchImage } from "./images-common.js";

export async function imagePage(main, [id]) {
  const controller = new AbortController();
  let image = await api(`/api/v1/images/${id}`, { signal: controller.signal });
  const errors = h("div");
  const view = h("div");
  // What the last action did, said in the page next to the buttons (a floating toast would cover
  // the share link's field on a phone).
  const notice = h("p.notice", { role: "status" });
  append(main, h("h1", {}, "Image"), view, errors);

  function render() {
    const figures = image.outputs.length ? image.outputs.map((out, i) => h("figure", {},
      h("img", { src: out.url, alt: image.prompt, width: out.width || image.width, height: out.height || image.height }),
      image.outputs.length > 1 ? h("figcaption.muted.small", {}, `Image ${i + 1} of ${image.outputs.length}`) : null))
      : h("p", { role: "status" }, STATUS_TEXT[image.status] || image.status, image.error?.detail ? ` — ${image.error.detail}` : "");
    const clone = new URLSearchParams({ prompt: image.prompt, aspect_ratio: image.aspect_ratio, num_outputs: String(image.num_outputs) });
    if (image.negative_prompt) clone.set("negative_prompt", image.negative_prompt);
    if (image.seed !== null && image.seed !== undefined) clone.set("seed", String(image.seed));
    const save = h("button", { type: "button", disabled: image.saved || image.status !== "completed" }, image.saved ? "Saved" : "Save");
    const share = h("button", { type: "button", disabled: image.status !== "completed" }, "Share");
    const del = h("button.danger", { type: "button" }, "Delete");
    const shareBox = h("div");
    const actions = h("div.actions", {},
      h("a.button", { href: `/studio?${clone}`, "data-link": true }, "Clone prompt"), save, share,
      image.outputs[0] ? h("a.button", { href: image.outputs[0].url, download: `${image.id}.${image.outputs[0].format || "png"}` }, "Download") : null,
      del);
    save.addEventListener("click", async () => {
      try {
        image = await api(`/api/v1/images/${image.id}/save`, { method: "POST" });
        notice.textContent = "Saved: it will not expire.";
        render();
      }
      catch (error) { showError(errors, error); }
    });
    share.addEventListener("click", async () => {
      try {
        const link = await api(`/api/v1/images/${image.id}/share`, { method: "POST" });
        const url = h("input.secret", { value: link.url, readonly: true, "aria-label": "Public link" });
        const stop = h("button", { type: "button" }, "Stop sharing");
        stop.addEventListener("click", async () => {
          try {
            await api(`/api/v1/images/${image.id}/share`, { method: "DELETE" });
            replace(shareBox);
            notice.textContent = "Stopped sharing: the link no longer works.";
            share.focus();
          }
          catch (error) { showError(errors, error); }
        });
        notice.textContent = "";
        replace(shareBox, h("div.card", {}, h("p", {}, "Anyone with this link can see the image and its prompt:"),
          url, h("div.actions", {}, copyButton(() => link.url, "Copy link"), h("a.button", { href: link.url, target: "_blank", rel: "noopener" }, "Open"), stop)));
        url.focus();
        url.select();
      } catch (error) { showError(errors, error); }
    });
    del.addEventListener("click", async () => {
      if (!confirm("Delete this image? Its files and any share link are removed.")) return;
      try { await api(`/api/v1/images/${image.id}`, { method: "DELETE" }); toast("Image deleted."); navigate("/gallery"); }
      catch (error) { showError(errors, error); }
    });
    const details = h("details", {}, h("summary", {}, "Prompt details"),
      h("dl.meta", {},
        h("dt", {}, "Prompt"), h("dd", {}, image.prompt),
        h("dt", {}, "Negative prompt"), h("dd", {}, image.negative_prompt || "—"),
        h("dt", {}, "Seed"), h("dd", {}, image.seed ?? "random")));
    details.open = true;
    replace(view, h("div.detail", {},
      h("div", {}, figures),
      h("div", {}, actions, notice, shareBox,
        h("dl.meta", {},
          h("dt", {}, "Size"), h("dd", {}, `${image.width}×${image.height} (${image.aspect_ratio})`),
          h("dt", {}, "Model"), h("dd", {}, image.model),
          h("dt", {}, "Provider"), h("dd", {}, image.provider || "—"),
          h("dt", {}, "Kind"), h("dd", {}, image.kind),
          h("dt", {}, "Created"), h("dd", {}, fmtDate(image.created_at)),
          h("dt", {}, "Expires"), h("dd", {}, image.saved ? "Never (saved)" : image.expires_at ? `${fmtDate(image.expires_at)} (${fmtRelative(image.expires_at)})` : "—"),
          h("dt", {}, "Credits"), h("dd", {}, String(image.credits_charged))),
        details)));
  }
  render();
  if (!["completed", "failed", "expired"].includes(image.status)) {
    watchImage(image.id, { signal: controller.signal, onUpdate: (img) => { image = img; render(); } }).catch(() => {});
  }
  return () => controller.abort();
}
