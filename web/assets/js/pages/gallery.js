// Gallery: Recent (temporary, with expiry) and Saved tabs, paginated.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { append, h, showError } from "../ui.js";
import { tile } from "./images-common.js";

export async function galleryPage(main, _params, query) {
  const tab = query.get("tab") === "saved" ? "saved" : "recent";
  const grid = h("div.grid", { role: "region", "aria-label": t(tab === "saved" ? "gallery.savedImages" : "gallery.recentImages") });
  const errors = h("div");
  const more = h("button", { type: "button", hidden: true }, t("media.loadMore"));
  append(main, h("h1", {}, t("nav.gallery")),
    h("nav.tabs", { "aria-label": t("gallery.sections") },
      h("a", { href: "/gallery", "data-link": true, "aria-current": tab === "recent" ? "page" : null }, t("media.recent")),
      h("a", { href: "/gallery?tab=saved", "data-link": true, "aria-current": tab === "saved" ? "page" : null }, t("media.savedTab"))),
    h("p.muted.small", {}, t(tab === "recent" ? "gallery.recentNote" : "gallery.savedNote")),
    grid, h("div.actions", {}, more), errors);
  let cursor = null;
  async function load() {
    const params = new URLSearchParams({ limit: "24", saved: tab === "saved" ? "true" : "false" });
    if (cursor) params.set("cursor", cursor);
    try {
      const page = await api(`/api/v1/images?${params}`);
      append(grid, ...page.items.map(tile));
      if (!grid.children.length) append(grid, h("p.muted", {}, t(tab === "saved" ? "gallery.noneSaved" : "gallery.noneRecent")));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (error) { showError(errors, error); }
  }
  more.addEventListener("click", load);
  await load();
}
