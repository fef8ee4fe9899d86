// The chat page's conversations: newest activity first (pinned ones first), rename, delete.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { append, h, humane, replace, toast } from "../ui.js";

/**
 * The sidebar element and `load()`; `current()` is the open conversation's id, `onDeleted(id)`
 * is called after one was deleted.
 */
export function chatSidebar({ current, onDeleted }) {
  const list = h("ul", { "aria-label": t("chat.conversations") });
  const search = h("input", { type: "search", name: "q", "aria-label": t("chat.search"), placeholder: t("chat.search"),
                              maxlength: "200" });
  const removeAll = h("button.danger.small", { type: "button" }, t("chat.deleteAll"));
  const sidebar = h("nav.sidebar", { "aria-label": t("chat.conversations") },
    h("a.button.primary", { href: "/chat", "data-link": true, "aria-keyshortcuts": "Alt+N" }, t("chat.new")),
    h("form.search", { role: "search", onsubmit: (event) => { event.preventDefault(); load(); } }, search),
    list, removeAll);
  let timer = 0;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => load().catch(() => {}), 300); });
  removeAll.addEventListener("click", async () => {
    if (!confirm(t("chat.confirmDeleteAll"))) return;
    try {
      await api("/api/v1/conversations", { method: "DELETE" });
      toast(t("chat.deletedAll"));
      onDeleted(current());
      await load();
    } catch (error) { toast(humane(error), { bad: true }); }
  });

  async function load() {
    const q = search.value.trim();
    const page = await api(`/api/v1/conversations?limit=50${q ? `&q=${encodeURIComponent(q)}` : ""}`);
    replace(list, page.items.length ? page.items.map(item) : h("li.muted.small", {}, q ? t("chat.noMatch") : t("chat.none")));
    removeAll.hidden = !page.items.length || Boolean(q);
  }

  function item(c) {
    const link = h("a", { href: `/chat/${c.id}`, "data-link": true, title: c.title,
                          "aria-current": c.id === current() ? "page" : null, translate: "no" }, c.title);
    const li = h("li", { dataset: { id: c.id } }, link,
      c.snippet ? h("p.snippet.small.muted", { translate: "no" }, c.snippet) : null);
    const pin = h("button", { type: "button", "aria-pressed": c.pinned ? "true" : "false",
                              "aria-label": t(c.pinned ? "chat.unpinOf" : "chat.pinOf", { title: c.title }) },
      c.pinned ? t("chat.unpin") : t("chat.pin"));
    pin.addEventListener("click", async () => {
      try {
        await api(`/api/v1/conversations/${c.id}`, { method: "PATCH", body: { pinned: !c.pinned } });
        await load();
      } catch (error) { toast(humane(error), { bad: true }); }
    });
    const exportMd = h("button", { type: "button", "aria-label": t("chat.exportOf", { title: c.title }) },
      t("chat.export"));
    exportMd.addEventListener("click", () => download(c, "md"));
    const rename = h("button", { type: "button", "aria-label": t("chat.renameOf", { title: c.title }) }, t("chat.rename"));
    const remove = h("button.danger", { type: "button", "aria-label": t("chat.deleteOf", { title: c.title }) },
      t("chat.delete"));
    rename.addEventListener("click", () => {
      const title = h("input", { value: c.title, "aria-label": t("chat.newTitle"), maxlength: "200", required: true });
      const renameForm = h("form", {}, title, h("button", { type: "submit" }, t("chat.save")));
      renameForm.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          await api(`/api/v1/conversations/${c.id}`, { method: "PATCH", body: { title: title.value } });
          await load();
        } catch (error) { toast(humane(error), { bad: true }); }
      });
      replace(li, renameForm);
      title.focus();
      title.select();
    });
    remove.addEventListener("click", async () => {
      if (!confirm(t("chat.confirmDelete", { title: c.title }))) return;
      try {
        await api(`/api/v1/conversations/${c.id}`, { method: "DELETE" });
        toast(t("chat.deleted"));
        onDeleted(c.id);
        await load();
      } catch (error) { toast(humane(error), { bad: true }); }
    });
    append(li, h("div.item-actions", {}, pin, rename, exportMd, remove));
    return li;
  }

  /** The export comes with the token (an API call), then is saved as a file. */
  async function download(c, format) {
    try {
      const response = await api(`/api/v1/conversations/${c.id}/export?format=${format}`, { raw: true });
      const name = (response.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/)?.[1] || `${c.id}.${format}`;
      const url = URL.createObjectURL(await response.blob());
      const link = h("a", { href: url, download: name, hidden: true });
      append(document.body, link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (error) { toast(humane(error), { bad: true }); }
  }

  return { sidebar, load };
}
