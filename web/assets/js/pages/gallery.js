// Gallery: Recent (temporary, with expiry) and Saved tabs, paginated.
import { api } from "../api.js";
import { append, h, showError } from "../ui.js";
import { tile } from "./images-common.js";

export async function galleryPage(main, _params, query) {
  const tab = query.get("tab") === "saved" ? "saved" : "recent";
  const grid = h("div.grid", { role: "region", "aria-label": tab === "saved" ? "Saved images" : "Recent images" });
  const errors = h("div");
  const more = h("button", { type: "button", hidden: true }, "Load more");
  append(main, h("h1", {}, "Gallery"),
    h("nav.tabs", { "aria-label": "Gallery sections" },
      h("a", { href: "/gallery", "data-link": true, "aria-current": tab === "recent" ? "page" : null }, "Recent"),
      h("a", { href: "/gallery?tab=saved", "data-link": true, "aria-current": tab === "saved" ? "page" : null }, "Saved")),
    h("p.muted.small", {}, tab === "recent"
      ? "Images you haven't saved are deleted when they expire. Save the ones you want to keep."
      : "Saved images never expire."),
    grid, h("div.actions", {}, more), errors);
  let cursor = null;
  async function load() {
    const params = new URLSearchParams({ limit: "24", saved: tab === "saved" ? "true" : "false" });
    if (cursor) params.set("cursor", cursor);
    try {
      const page = await api(`/api/v1/images?${params}`);
      append(grid, ...page.items.map(tile));
      if (!grid.children.length) append(grid, h("p.muted", {}, tab === "saved" ? "Nothing saved yet." : "No recent images. Make some in the studio."));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (error) { showError(errors, error); }
  }
  more.addEventListener("click", load);
  await load();
}
