// API keys: create (secret shown once, with a copy button) with optional limits, list with last
// use, spend and limits, change limits, revoke (contract §7, §19).
import { api } from "../api.js";
import { append, copyButton, field, fmtDate, h, replace, showError, toast } from "../ui.js";

const SCOPES = ["chat", "images", "videos", "describe", "embeddings"];

const list = (text) => text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
const capValue = (input) => (input.value.trim() === "" ? null : Number(input.value));

/** The limit inputs of one key (blank = no limit); `values()` reads them as API fields. */
function limitInputs(key = {}) {
  const daily = h("input", { name: "daily_credit_cap", type: "number", min: "0", step: "1", value: key.daily_credit_cap ?? "" });
  const monthly = h("input", { name: "monthly_credit_cap", type: "number", min: "0", step: "1", value: key.monthly_credit_cap ?? "" });
  const expires = h("input", { name: "expires_at", type: "date", value: key.expires_at ? key.expires_at.slice(0, 10) : "" });
  const models = h("input", { name: "models", placeholder: "all models", value: (key.models || []).join(", ") });
  const ips = h("input", { name: "allowed_ips", placeholder: "any address", value: (key.allowed_ips || []).join(", ") });
  const boxes = SCOPES.map((scope) => h("input", { type: "checkbox", name: "scopes", value: scope,
    checked: !key.scopes || key.scopes.includes(scope), id: `scope-${scope}-${key.id || "new"}` }));
  const scopes = h("fieldset.scopes", {}, h("legend", {}, "Scopes"),
    boxes.map((box) => h("label", { for: box.id }, box, ` ${box.value}`)));
  const el = h("div.limits", {}, scopes,
    field("Daily credit cap", daily, "UTC day; blank for none"),
    field("Monthly credit cap", monthly, "UTC month; blank for none"),
    field("Expires on", expires, "blank: never"),
    field("Models", models, "comma-separated catalogue names"),
    field("Allowed IPs", ips, "comma-separated addresses or CIDR networks"));
  function values() {
    return {
      scopes: boxes.filter((b) => b.checked).map((b) => b.value),
      daily_credit_cap: capValue(daily),
      monthly_credit_cap: capValue(monthly),
      expires_at: expires.value ? `${expires.value}T23:59:59Z` : null,
      models: models.value.trim() ? list(models.value) : null,
      allowed_ips: ips.value.trim() ? list(ips.value) : null,
    };
  }
  return { el, values };
}

function describeLimits(k) {
  const parts = [];
  if (k.scopes && k.scopes.length < SCOPES.length) parts.push(`scopes: ${k.scopes.join(", ")}`);
  if (k.daily_credit_cap !== null && k.daily_credit_cap !== undefined) parts.push(`${k.daily_credit_cap}/day`);
  if (k.monthly_credit_cap !== null && k.monthly_credit_cap !== undefined) parts.push(`${k.monthly_credit_cap}/month`);
  if (k.models) parts.push(`models: ${k.models.join(", ")}`);
  if (k.allowed_ips) parts.push(`IPs: ${k.allowed_ips.join(", ")}`);
  if (k.expires_at) parts.push(`expires ${fmtDate(k.expires_at)}`);
  return parts.length ? parts.join(" · ") : "none";
}

export async function keysPage(main) {
  const name = h("input", { name: "name", required: true, maxlength: "100", placeholder: "e.g. my script" });
  const limits = limitInputs();
  const errors = h("div");
  const created = h("div", { "aria-live": "polite" });
  const table = h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": "Table" });
  const editor = h("div", { "aria-live": "polite" });
  const form = h("form.card", {}, field("Key name", name),
    h("details", {}, h("summary", {}, "Limits (optional)"), limits.el),
    h("div.actions", {}, h("button.primary", { type: "submit" }, "Create key")), errors);
  append(main, h("h1", {}, "API keys"),
    h("p.muted", {}, "Keys let your own programs call the Muse API as you. Treat them like passwords; cap what each may spend."),
    form, created, h("h2", {}, "Your keys"), table, editor);

  function edit(k) {
    const inputs = limitInputs(k);
    const editErrors = h("div");
    const editForm = h("form.card", { "aria-label": `Limits of ${k.name}` }, h("h3", {}, `Limits of “${k.name}”`), inputs.el,
      h("div.actions", {}, h("button.primary", { type: "submit" }, "Save limits"),
        h("button", { type: "button", onclick: () => replace(editor) }, "Cancel")), editErrors);
    editForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api(`/api/v1/api-keys/${k.id}`, { method: "PATCH", body: inputs.values() });
        toast("Limits saved.");
        replace(editor);
        await load();
      } catch (error) { showError(editErrors, error); }
    });
    replace(editor, editForm);
  }

  async function load() {
    const page = await api("/api/v1/api-keys");
    replace(table, page.items.length ? h("table", {},
      h("thead", {}, h("tr", {}, ["Name", "Prefix", "Created", "Last used", "Spent today", "Spent this month", "Limits", ""]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, page.items.map((k) => h("tr", { dataset: { key: k.id } }, h("td", {}, k.name), h("td", {}, h("code", {}, k.prefix)),
        h("td", {}, fmtDate(k.created_at)), h("td", {}, k.last_used_at ? fmtDate(k.last_used_at) : "never"),
        h("td.num", {}, String(k.spent_today)), h("td.num", {}, String(k.spent_this_month)),
        h("td.limits-summary", {}, describeLimits(k)),
        h("td", {}, h("button", { type: "button", "aria-label": `Edit limits of ${k.name}`, onclick: () => edit(k) }, "Limits"),
          " ",
          h("button.danger", { type: "button", "aria-label": `Revoke ${k.name}`, onclick: async () => {
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
      const body = { name: name.value.trim() };
      for (const [k, v] of Object.entries(limits.values())) if (v !== null && !(k === "scopes" && v.length === SCOPES.length)) body[k] = v;
      const key = await api("/api/v1/api-keys", { method: "POST", body });
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
