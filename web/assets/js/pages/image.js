// Image detail: the picture at its aspect ratio, metadata, Clone prompt, Save, Share, Download, Delete.
import { api } from "../api.js";
import { t, tValue } from "../i18n.js";
import { append, copyButton, fmtDate, fmtNumber, fmtRelative, h, replace, showError, toast } from "../ui.js";
import { navigate } from "../main.js";
import { statusText, watchImage } from "./images-common.js";

export async function imagePage(main, [id]) {
  const controller = new AbortController();
  let image = await api(`/api/v1/images/${id}`, { signal: controller.signal });
  const errors = h("div");
  const view = h("div");
  // What the last action did, said in the page next to the buttons (a floating toast would cover
  // the share link's field on a phone).
  const notice = h("p.notice", { role: "status" });
  append(main, h("h1", {}, t("image.title")), view, errors);

  function render() {
    const figures = image.outputs.length ? image.outputs.map((out, i) => h("figure", {},
      h("img", { src: out.url, alt: image.prompt, width: out.width || image.width, height: out.height || image.height, translate: "no" }),
      image.outputs.length > 1 ? h("figcaption.muted.small", {}, t("image.nOfTotal", { n: i + 1, total: image.outputs.length })) : null))
      : h("p", { role: "status" }, statusText(image.status), image.error?.detail ? [" — ", h("span", { lang: "en", translate: "no" }, image.error.detail)] : "");
    const clone = new URLSearchParams({ prompt: image.prompt, aspect_ratio: image.aspect_ratio, num_outputs: String(image.num_outputs) });
    if (image.negative_prompt) clone.set("negative_prompt", image.negative_prompt);
    if (image.seed !== null && image.seed !== undefined) clone.set("seed", String(image.seed));
    const save = h("button", { type: "button", disabled: image.saved || image.status !== "completed" }, t(image.saved ? "media.saved" : "media.save"));
    const share = h("button", { type: "button", disabled: image.status !== "completed" }, t("image.share"));
    const del = h("button.danger", { type: "button" }, t("chat.delete"));
    const shareBox = h("div");
    const actions = h("div.actions", {},
      h("a.button", { href: `/studio?${clone}`, "data-link": true }, t("media.clone")), save, share,
      image.outputs[0] ? h("a.button", { href: image.outputs[0].url, download: `${image.id}.${image.outputs[0].format || "png"}` }, t("media.download")) : null,
      del);
    save.addEventListener("click", async () => {
      try {
        image = await api(`/api/v1/images/${image.id}/save`, { method: "POST" });
        notice.textContent = t("media.savedNote");
        render();
      }
      catch (error) { showError(errors, error); }
    });
    share.addEventListener("click", async () => {
      try {
        const link = await api(`/api/v1/images/${image.id}/share`, { method: "POST" });
        const url = h("input.secret", { value: link.url, readonly: true, "aria-label": t("image.publicLink") });
        const stop = h("button", { type: "button" }, t("image.stopSharing"));
        stop.addEventListener("click", async () => {
          try {
            await api(`/api/v1/images/${image.id}/share`, { method: "DELETE" });
            replace(shareBox);
            notice.textContent = t("image.stoppedSharing");
            share.focus();
          }
          catch (error) { showError(errors, error); }
        });
        notice.textContent = "";
        replace(shareBox, h("div.card", {}, h("p", {}, t("image.shareNote")),
          url, h("div.actions", {}, copyButton(() => link.url, t("image.copyLink")), h("a.button", { href: link.url, target: "_blank", rel: "noopener" }, t("image.open")), stop)));
        url.focus();
        url.select();
      } catch (error) { showError(errors, error); }
    });
    del.addEventListener("click", async () => {
      if (!confirm(t("image.confirmDelete"))) return;
      try { await api(`/api/v1/images/${image.id}`, { method: "DELETE" }); toast(t("image.deleted")); navigate("/gallery"); }
      catch (error) { showError(errors, error); }
    });
    const details = h("details", {}, h("summary", {}, t("image.promptDetails")),
      h("dl.meta", {},
        h("dt", {}, t("media.prompt")), h("dd", { translate: "no" }, image.prompt),
        h("dt", {}, t("media.negative")), h("dd", { translate: "no" }, image.negative_prompt || "—"),
        h("dt", {}, t("media.seed")), h("dd", {}, image.seed ?? t("image.random"))));
    details.open = true;
    replace(view, h("div.detail", {},
      h("div", {}, figures),
      h("div", {}, actions, notice, shareBox,
        h("dl.meta", {},
          h("dt", {}, t("media.size")), h("dd", {}, `${image.width}×${image.height} (${image.aspect_ratio})`),
          h("dt", {}, t("chat.model")), h("dd", { translate: "no" }, image.model),
          h("dt", {}, t("media.provider")), h("dd", { translate: "no" }, image.provider || "—"),
          h("dt", {}, t("media.kind")), h("dd", {}, tValue("kind", image.kind)),
          h("dt", {}, t("media.created")), h("dd", {}, fmtDate(image.created_at)),
          h("dt", {}, t("media.expires")), h("dd", {}, image.saved ? t("media.never") : image.expires_at ? `${fmtDate(image.expires_at)} (${fmtRelative(image.expires_at)})` : "—"),
          h("dt", {}, t("nav.credits")), h("dd", {}, fmtNumber(image.credits_charged))),
        details)));
  }
  render();
  if (!["completed", "failed", "expired"].includes(image.status)) {
    watchImage(image.id, { signal: controller.signal, onUpdate: (img) => { image = img; render(); } }).catch(() => {});
  }
  return () => controller.abort();
}
