// Images in chat messages (contract §18): attach a file (sent as a data: URL) or one of your gallery
// images (sent by id), shown in the thread; a stored conversation's images are read with the token
// (they are never at a public URL).
import { api } from "../api.js";
import { t } from "../i18n.js";
import { append, h, replace, toast } from "../ui.js";

const TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];
const MAX_IMAGES = 8;  // CHAT_MAX_IMAGES' default; the server names the part if its limit is lower

const readAsDataUrl = (file) => new Promise((resolve, reject) => {
  const reader = new FileReader();
  reader.onload = () => resolve(reader.result);
  reader.onerror = () => reject(reader.error);
  reader.readAsDataURL(file);
});

/** The composer's attachments: `el` (controls and chosen images), `parts()` for the request,
 * `shown()` for the thread, `count`, `clear()`. */
export function attachments() {
  let chosen = [];  // {part, src, label}
  const file = h("input.visually-hidden", { type: "file", accept: TYPES.join(","), multiple: true,
                                             id: "chat-attach-file" });
  const upload = h("label.button", { for: "chat-attach-file" }, t("chat.attach"));
  const pick = h("button", { type: "button", "aria-expanded": "false" }, t("chat.fromGallery"));
  const list = h("ul.attachments", { "aria-label": t("chat.attached") });
  const picker = h("div.picker", { hidden: true, role: "group", "aria-label": t("chat.yourImages") });
  const el = h("div.attach", {}, h("div.actions", {}, upload, file, pick), list, picker);

  function render() {
    replace(list, chosen.map((item, index) => {
      const remove = h("button", { type: "button", "aria-label": t("chat.removeImage", { label: item.label }) }, "×");
      remove.addEventListener("click", () => { chosen.splice(index, 1); render(); });
      return h("li", {}, h("img", { src: item.src, alt: item.label }), remove);
    }));
  }

  function add(item) {
    if (chosen.length >= MAX_IMAGES) { toast(t("chat.maxImages", { count: MAX_IMAGES }), { bad: true }); return; }
    chosen.push(item);
    render();
  }

  file.addEventListener("change", async () => {
    for (const f of file.files) {
      if (!TYPES.includes(f.type)) { toast(t("chat.imageType", { name: f.name }), { bad: true }); continue; }
      const url = await readAsDataUrl(f);
      add({ part: { type: "image_url", image_url: { url } }, src: url, label: f.name });
    }
    file.value = "";
  });

  pick.addEventListener("click", async () => {
    const open = picker.hidden;
    picker.hidden = !open;
    pick.setAttribute("aria-expanded", String(open));
    if (!open) return;
    replace(picker, h("p.muted.small", {}, t("chat.loadingImages")));
    try {
      const page = await api("/api/v1/images?limit=24&status=completed");
      const tiles = page.items.filter((image) => image.outputs?.length).map((image) => {
        const label = image.prompt || image.id;
        const choose = h("button", { type: "button", "aria-label": t("chat.attachOf", { label }) },
          h("img", { src: image.outputs[0].url, alt: "" }));
        choose.addEventListener("click", () => {
          add({ part: { type: "image", image_id: image.id }, src: image.outputs[0].url, label });
          picker.hidden = true;
          pick.setAttribute("aria-expanded", "false");
        });
        return choose;
      });
      replace(picker, tiles.length ? tiles : h("p.muted.small", {}, t("chat.noImages")));
    } catch (error) {
      replace(picker, h("p.muted.small", {}, t("chat.imagesFailed")));
    }
  });

  return {
    el,
    get count() { return chosen.length; },
    parts: () => chosen.map((item) => item.part),
    shown: () => chosen.map((item) => ({ src: item.src, label: item.label })),
    clear() { chosen = []; render(); picker.hidden = true; },
  };
}

/** The images of a message in the thread: `images` are {src, label} (just sent) or a stored
 * message's {url, content_type} (read with the token, shown from a blob). */
export function messageImages(images) {
  if (!images?.length) return null;
  const figure = h("div.msg-images");
  for (const [index, image] of images.entries()) {
    const img = h("img", { alt: image.label || t("chat.attachedN", { n: index + 1 }) });
    append(figure, img);
    if (image.src) { img.src = image.src; continue; }
    api(image.url, { raw: true })
      .then((response) => response.blob())
      .then((blob) => { img.src = URL.createObjectURL(blob); })
      .catch(() => { img.alt = t("chat.imageGone"); });
  }
  return figure;
}
