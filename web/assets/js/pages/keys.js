// API keys: create (secret shown once, with a copy button), list, revoke.
import { api } from "../api.js";
import { append, copyButton, field, fmtDate, h, replace, showError, toast } from "../ui.js";

export async function keysPage(main) {
  const name = h("input", { name: "name", required: true, maxlength: "100", placeholder: "e.g. my script" });
  const errors = h("div");
  const created = h("div", { "aria-live": "polite" });
  const table = h("div.table-wrap");
  const form = h("form.card", {}, field("Key name", name), h("div.actions", {}, h("button.primary", { type: "submit" }, "Create key")), errors);
  append(main, h("h1", {}, "API keys"),
    h("p.muted", {}, "Keys let your own programs call the Muse API as you. Treat them like passwords."),
    form, created, h("h2", {}, "Your keys"), table);
  async function load() {
    const page = await api("/api/v1/api-keys");
    replace(table, page.items.length ? h("table", {},
      h("thead", {}, h("tr", {}, ["Name", "Prefix", "Created", "Last used", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, page.items.map((k) => h("tr", {}, h("td", {}, k.name), h("td", {}, h("code", {}, k.prefix)),
        h("td", {}, fmtDate(k.created_at)), h("td", {}, fmtDate(k.last_used_at)),
        h("td", {}, h("button.danger", { type: "button", "aria-label": `Revoke ${k.name}`, onclick: async () => {
          if (!confirm(`Revoke “${k.name}”? Programs using it stop working at once.`)) return;
          try { await api(`/api/v1/api-keys/${k.id}`, { method: "DELETE" }); toast("Key revoked."); load(); }
          catch (error) { showError(errors, error); }
        } }, "Revoke"))))))
      : h("p.muted", {}, "No keys yet."));
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    try {
      const key = await api("/api/v1/api-keys", { method: "POST", body: { name: name.value.trim() } });
      const secret = h("input.secret", { value: key.key, readonly: true, "aria-label": "New API key" });
      replace(created, h("div.card", { role: "status" },
        h("p", {}, h("strong", {}, "Copy your new key now: "), "it won't be shown again."),
        secret, h("div.actions", {}, copyButton(() => key.key, "Copy key"))));
      secret.focus();
      secret.select();
      name.value = "";
      await load();
    } catch (error) { showError(errors, error); }
  });
  await load();
}
