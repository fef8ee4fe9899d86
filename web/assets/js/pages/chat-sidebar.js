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
  const sidebar = h("nav.sidebar", { "aria-label": t("chat.conversations") },
    h("a.button.primary", { href: "/chat", "data-link": true, "aria-keyshortcuts": "Alt+N" }, t("chat.new")), list);

  async function load() {
    const page = await api("/api/v1/conversations?limit=50");
    replace(list, page.items.length ? page.items.map(item) : h("li.muted.small", {}, t("chat.none")));
  }

  function item(c) {
    const link = h("a", { href: `/chat/${c.id}`, "data-link": true, title: c.title,
                          "aria-current": c.id === current() ? "page" : null }, c.title);
    const li = h("li", { dataset: { id: c.id } }, link);
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
    append(li, rename, remove);
    return li;
  }

  return { sidebar, load };
}
