// API keys: create (secret shown once, with a copy button) with optional limits, list with last
// use, spend and limits, change limits, revoke (contract §7, §19).
import { api } from "../api.js";
import { t } from "../i18n.js";
import { append, copyButton, field, fmtDate, fmtNumber, h, replace, showError, toast } from "../ui.js";

const SCOPES = ["chat", "images", "videos", "describe", "embeddings"];

const list = (text) => text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
const capValue = (input) => (input.value.trim() === "" ? null : Number(input.value));

/** The limit inputs of one key (blank = no limit); `values()` reads them as API fields. */
function limitInputs(key = {}) {
  const daily = h("input", { name: "daily_credit_cap", type: "number", min: "0", step: "1", value: key.daily_credit_cap ?? "" });
  const monthly = h("input", { name: "monthly_credit_cap", type: "number", min: "0", step: "1", value: key.monthly_credit_cap ?? "" });
  const expires = h("input", { name: "expires_at", type: "date", value: key.expires_at ? key.expires_at.slice(0, 10) : "" });
  const models = h("input", { name: "models", placeholder: t("keys.allModels"), value: (key.models || []).join(", ") });
  const ips = h("input", { name: "allowed_ips", placeholder: t("keys.anyAddress"), value: (key.allowed_ips || []).join(", ") });
  const boxes = SCOPES.map((scope) => h("input", { type: "checkbox", name: "scopes", value: scope,
    checked: !key.scopes || key.scopes.includes(scope), id: `scope-${scope}-${key.id || "new"}` }));
  const scopes = h("fieldset.scopes", {}, h("legend", {}, t("keys.scopes")),
    boxes.map((box) => h("label", { for: box.id }, box, ` ${t(`scope.${box.value}`)}`)));
  const el = h("div.limits", {}, scopes,
    field(t("keys.dailyCap"), daily, t("keys.dailyCapHint")),
    field(t("keys.monthlyCap"), monthly, t("keys.monthlyCapHint")),
    field(t("keys.expiresOn"), expires, t("keys.expiresHint")),
    field(t("keys.models"), models, t("keys.modelsHint")),
    field(t("keys.ips"), ips, t("keys.ipsHint")));
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
  if (k.scopes && k.scopes.length < SCOPES.length) parts.push(t("keys.limitScopes", { scopes: k.scopes.map((s) => t(`scope.${s}`)).join(", ") }));
  if (k.daily_credit_cap !== null && k.daily_credit_cap !== undefined) parts.push(t("keys.perDay", { n: k.daily_credit_cap }));
  if (k.monthly_credit_cap !== null && k.monthly_credit_cap !== undefined) parts.push(t("keys.perMonth", { n: k.monthly_credit_cap }));
  if (k.models) parts.push([t("keys.limitModels"), " ", h("span", { translate: "no" }, k.models.join(", "))]);
  if (k.allowed_ips) parts.push([t("keys.limitIps"), " ", h("span", { translate: "no" }, k.allowed_ips.join(", "))]);
  if (k.expires_at) parts.push(t("keys.limitExpires", { date: fmtDate(k.expires_at) }));
  return parts.length ? parts.flatMap((part, i) => (i ? [" · ", part] : [part])) : t("keys.none");
}

export async function keysPage(main) {
  const name = h("input", { name: "name", required: true, maxlength: "100", placeholder: t("keys.namePlaceholder") });
  const limits = limitInputs();
  const errors = h("div");
  const created = h("div", { "aria-live": "polite" });
  const table = h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": t("keys.yours") });
  const editor = h("div", { "aria-live": "polite" });
  const form = h("form.card", {}, field(t("keys.name"), name),
    h("details", {}, h("summary", {}, t("keys.limitsOptional")), limits.el),
    h("div.actions", {}, h("button.primary", { type: "submit" }, t("keys.create"))), errors);
  append(main, h("h1", {}, t("nav.keys")),
    h("p.muted", {}, t("keys.intro")),
    form, created, h("h2", {}, t("keys.yours")), table, editor);

  function edit(k) {
    const inputs = limitInputs(k);
    const editErrors = h("div");
    const editForm = h("form.card", { "aria-label": t("keys.limitsOf", { name: k.name }) }, h("h3", {}, t("keys.limitsOfQuoted", { name: k.name })), inputs.el,
      h("div.actions", {}, h("button.primary", { type: "submit" }, t("keys.saveLimits")),
        h("button", { type: "button", onclick: () => replace(editor) }, t("chat.cancel"))), editErrors);
    editForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api(`/api/v1/api-keys/${k.id}`, { method: "PATCH", body: inputs.values() });
        toast(t("keys.limitsSaved"));
        replace(editor);
        await load();
      } catch (error) { showError(editErrors, error); }
    });
    replace(editor, editForm);
  }

  async function load() {
    const page = await api("/api/v1/api-keys");
    replace(table, page.items.length ? h("table", {},
      h("thead", {}, h("tr", {}, ["keys.colName", "keys.prefix", "media.created", "keys.lastUsed", "keys.spentToday", "keys.spentMonth", "keys.limits", "keys.actions"]
        .map((c) => h("th", { scope: "col" }, t(c))))),
      h("tbody", {}, page.items.map((k) => h("tr", { dataset: { key: k.id } }, h("td", { translate: "no" }, k.name), h("td", {}, h("code", { translate: "no" }, k.prefix)),
        h("td", {}, fmtDate(k.created_at)), h("td", {}, k.last_used_at ? fmtDate(k.last_used_at) : t("keys.never")),
        h("td.num", {}, fmtNumber(k.spent_today)), h("td.num", {}, fmtNumber(k.spent_this_month)),
        h("td.limits-summary", {}, describeLimits(k)),
        h("td", {}, h("button", { type: "button", "aria-label": t("keys.editLimitsOf", { name: k.name }), onclick: () => edit(k) }, t("keys.limits")),
          " ",
          h("button.danger", { type: "button", "aria-label": t("keys.revokeOf", { name: k.name }), onclick: async () => {
            if (!confirm(t("keys.confirmRevoke", { name: k.name }))) return;
            try { await api(`/api/v1/api-keys/${k.id}`, { method: "DELETE" }); toast(t("keys.revoked")); load(); }
            catch (error) { showError(errors, error); }
          } }, t("keys.revoke")))))))
      : h("p.muted", {}, t("keys.noKeys")));
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    try {
      const body = { name: name.value.trim() };
      for (const [k, v] of Object.entries(limits.values())) if (v !== null && !(k === "scopes" && v.length === SCOPES.length)) body[k] = v;
      const key = await api("/api/v1/api-keys", { method: "POST", body });
      const secret = h("input.secret", { value: key.key, readonly: true, "aria-label": t("keys.newKey") });
      replace(created, h("div.card", { role: "status" },
        h("p", {}, h("strong", {}, t("keys.copyNow")), " ", t("keys.notAgain")),
        secret, h("div.actions", {}, copyButton(() => key.key, t("keys.copyKey")))));
      secret.focus();
      secret.select();
      name.value = "";
      await load();
    } catch (error) { showError(errors, error); }
  });
  await load();
}
