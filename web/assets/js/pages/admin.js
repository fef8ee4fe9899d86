// Admin console (ADMIN only): stats, provider health, users, gift codes, live settings, audit log.
import { api } from "../api.js";
import { loadPlans } from "../state.js";
import { t, tValue } from "../i18n.js";
import { append, copyButton, field, fmtDate, fmtNumber, h, replace, showError, toast } from "../ui.js";

const SECTIONS = [["", "admin.overview"], ["users", "admin.users"], ["gift-codes", "admin.giftCodes"], ["settings", "admin.settings"], ["audit", "admin.audit"]];

export async function adminPage(main, [section = "", id]) {
  append(main, h("h1", {}, t("nav.admin")), h("nav.tabs.sub-nav", { "aria-label": t("admin.sections") }, SECTIONS.map(([path, label]) =>
    h("a", { href: `/admin${path ? "/" + path : ""}`, "data-link": true, "aria-current": section === path ? "page" : null }, t(label)))));
  const body = h("div");
  append(main, body);
  const pages = { "": overview, users: id ? userDetail : users, "gift-codes": giftCodes, settings, audit };
  await (pages[section] || overview)(body, id);
}

function bars(title, entries) {
  const max = Math.max(1, ...entries.map(([, v]) => v));
  return h("figure.card", {}, h("figcaption", {}, h("strong", {}, title)),
    entries.map(([label, value]) => {
      const bar = h("div.bar", { role: "presentation" });
      bar.style.width = `${(100 * value) / max}%`;
      return h("div.barrow", {}, h("span.small", {}, label), h("div", {}, bar), h("span.small", {}, fmtNumber(value)));
    }));
}

async function overview(body) {
  const stats = await api("/api/v1/admin/stats");
  // Each row by what the provider really does: the chat chain's breakers for chat providers, each
  // image provider's own breaker; a switch of a provider not in use here shows its kinds (or "off").
  const images = stats.image_providers || {};
  const providerRows = [
    ...Object.entries(stats.providers).filter(([n, p]) => (p.kinds || []).includes("chat") || !(n in images))
      .map(([n, p]) => [(p.kinds || []).includes("chat") ? "chat" : (p.kinds || []).join(" + ") || "other", n, p]),
    ...Object.entries(images).map(([n, p]) => ["image", n, p])];
  const revenue = Object.entries(stats.revenue_30d || {});
  append(body, 
    h("div.cards", {},
      h("div.card", {}, h("div.muted", {}, t("admin.users")), h("div.stat", {}, fmtNumber(stats.users.total)),
        h("div.small.muted", {}, t("admin.usersNew", { new: stats.users.new_24h, active: stats.users.active_24h }))),
      h("div.card", {}, h("div.muted", {}, t("admin.spent24")), h("div.stat", {}, fmtNumber(stats.credits.spent_24h)),
        h("div.small.muted", {}, t("admin.purchased30", { n: stats.credits.purchased_30d }))),
      revenue.map(([cur, r]) => h("div.card", {}, h("div.muted", {}, t("admin.revenue", { currency: cur })),
        h("div.stat", {}, fmtNumber(Number(r.net), { style: "currency", currency: cur })),
        h("div.small.muted", {}, t("admin.revenueNote", { payments: r.payments, refunded: fmtNumber(Number(r.refunded), { style: "currency", currency: cur }) }))))),
    h("div.cards.wide", {}, bars(t("admin.generations"), Object.entries(stats.generations).map(([k, v]) => [tValue("generations", k), v])),
      bars(t("admin.providerCalls"), providerRows.map(([k, n, p]) => [[tValue("providerKind", k), ":", h("span", { translate: "no" }, n)], p.calls || 0]))),
    h("h2", {}, t("admin.health")),
    h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": t("admin.health") }, h("table", {},
      h("thead", {}, h("tr", {}, ["media.kind", "media.provider", "admin.circuit", "admin.enabled", "admin.calls", "admin.failures"].map((c) => h("th", { scope: "col" }, t(c))))),
      h("tbody", {}, providerRows.map(([k, n, p]) => h("tr", {}, h("td", {}, tValue("providerKind", k)), h("td", { translate: "no" }, n),
        h("td", {}, p.state === "closed" ? `✔ ${t("circuit.closed")}` : `⚠ ${tValue("circuit", p.state)}`), h("td", {}, t(p.enabled === false ? "admin.off" : "admin.on")),
        h("td", {}, fmtNumber(p.calls ?? 0)), h("td", {}, fmtNumber(p.failures ?? 0))))))),
    h("p.muted.small", {}, t("admin.generatedAt", { date: fmtDate(stats.generated_at) })));
}

async function users(body) {
  const q = h("input", { type: "search", name: "q", placeholder: t("admin.searchPlaceholder") });
  const table = h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": t("admin.users") });
  const errors = h("div");
  const form = h("form.row", { role: "search" }, field(t("admin.searchUsers"), q), h("div.actions", {}, h("button", { type: "submit" }, t("admin.search"))));
  append(body, form, errors, table);
  async function load() {
    try {
      const page = await api(`/api/v1/admin/users?${new URLSearchParams(q.value ? { q: q.value } : {})}`);
      replace(table, h("table", {}, h("thead", {}, h("tr", {}, ["admin.user", "auth.role", "admin.plan", "video.status", "admin.joined"].map((c) => h("th", { scope: "col" }, t(c))))),
        h("tbody", {}, page.items.map((u) => h("tr", {},
          h("td", {}, h("a", { href: `/admin/users/${u.id}`, "data-link": true, translate: "no" }, u.email || u.name || u.clerk_id || u.id)),
          h("td", {}, tValue("role", u.role)), h("td", { translate: "no" }, u.plan), h("td", {}, t(u.disabled ? "status.disabled" : "status.active")), h("td", {}, fmtDate(u.created_at)))))));
    } catch (error) { showError(errors, error); }
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  await load();
}

async function userDetail(body, id) {
  const [user, plans] = await Promise.all([api(`/api/v1/admin/users/${id}`), loadPlans()]);
  const errors = h("div");
  const role = h("select", { name: "role" }, ["USER", "SUBSCRIBER", "ADMIN"].map((r) => h("option", { value: r, selected: r === user.role }, tValue("role", r))));
  const plan = h("select", { name: "plan" }, plans.plans.map((p) => h("option", { value: p.name, selected: p.name === user.plan, translate: "no" }, p.name)));
  const disabled = h("input", { type: "checkbox", name: "disabled", checked: user.disabled });
  const edit = h("form.card", {}, h("div.row", {}, field(t("auth.role"), role), field(t("admin.plan"), plan)),
    h("label.inline", {}, disabled, t("admin.disabledLabel")), h("div.actions", {}, h("button.primary", { type: "submit" }, t("admin.saveChanges"))));
  edit.addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await api(`/api/v1/admin/users/${id}`, { method: "PATCH", body: { role: role.value, plan: plan.value, disabled: disabled.checked } }); toast(t("admin.userUpdated")); }
    catch (error) { showError(errors, error); }
  });
  const delta = h("input", { type: "number", name: "delta", required: true, step: "1" });
  const reason = h("input", { name: "reason", required: true, maxlength: "500" });
  const adjust = h("form.card", {}, h("div.row", {}, field(t("admin.delta"), delta), field(t("credits.reason"), reason)),
    h("div.actions", {}, h("button", { type: "submit" }, t("admin.adjust"))));
  const balanceText = (c) => t("admin.balance", { balance: c.balance, spendable: c.spendable });
  const credits = h("p", {}, user.credits ? balanceText(user.credits) : "");
  adjust.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const out = await api(`/api/v1/admin/users/${id}/credits`, { method: "POST", body: { delta: Number(delta.value), reason: reason.value } });
      credits.textContent = balanceText(out.credits);
      toast(t("admin.adjusted"));
    } catch (error) { showError(errors, error); }
  });
  append(body, h("h2", { translate: "no" }, user.email || user.name || user.clerk_id || user.id),
    h("p.muted.small", {}, h("span", { translate: "no" }, user.id), " · ", t("admin.joinedAt", { date: fmtDate(user.created_at) })), credits, errors, edit, adjust,
    h("h2", {}, t("admin.recent")),
    h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": t("admin.recent") }, h("table", {}, h("tbody", {}, (user.generations || []).slice(0, 20).map((g) =>
      h("tr", {}, h("td", {}, tValue("usageKind", g.type)), h("td", { translate: "no" }, g.prompt || g.model || ""), h("td", {}, g.status ? tValue("status", g.status) : ""), h("td", {}, fmtDate(g.created_at))))))));
}

async function giftCodes(body) {
  const plans = await loadPlans();
  const tier = h("select", { name: "tier" }, h("option", { value: "" }, t("admin.plainCredits")),
    plans.gift_tiers.map((g) => h("option", { value: g.name }, t("admin.tierOption", { name: g.name, credits: t("credits.count", { count: g.credits }), days: g.days }))));
  const credits = h("input", { type: "number", name: "credits", min: "1" });
  const count = h("input", { type: "number", name: "count", min: "1", max: "1000", value: "1", required: true });
  const expires = h("input", { type: "date", name: "expires_at" });
  const errors = h("div");
  const made = h("div", { "aria-live": "polite" });
  const table = h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": t("admin.codes") });
  const form = h("form.card", {}, h("div.row", {}, field(t("admin.tier"), tier), field(t("admin.orCredits"), credits), field(t("admin.howMany"), count), field(t("admin.until"), expires)),
    h("div.actions", {}, h("button.primary", { type: "submit" }, t("admin.createCodes"))), errors);
  append(body, form, made, h("h2", {}, t("admin.codes")), table);
  let rows = [];
  async function load() {
    const page = await api("/api/v1/admin/gift-codes?limit=100");
    rows = page.items;
    replace(table, h("div.actions", {}, h("button", { type: "button", onclick: () => exportCsv(rows) }, t("admin.exportCsv"))),
      h("table", {}, h("thead", {}, h("tr", {}, ["admin.code", "admin.tierCredits", "video.status", "admin.redeemedBy", "admin.redeemedAt", "media.created"].map((c) => h("th", { scope: "col" }, t(c))))),
        h("tbody", {}, rows.map((c) => h("tr", {}, h("td", {}, h("code", { translate: "no" }, c.code)), h("td", {}, c.tier ? h("span", { translate: "no" }, c.tier) : fmtNumber(c.credits)), h("td", {}, tValue("status", c.status)),
          h("td", { translate: "no" }, c.redeemed_by || "—"), h("td", {}, fmtDate(c.redeemed_at)), h("td", {}, fmtDate(c.created_at)))))));
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    const payload = { count: Number(count.value) };
    if (tier.value) payload.tier = tier.value; else payload.credits = Number(credits.value);
    if (expires.value) payload.expires_at = new Date(`${expires.value}T23:59:59Z`).toISOString();
    try {
      const out = await api("/api/v1/admin/gift-codes", { method: "POST", body: payload });
      const text = out.codes.map((c) => c.code).join("\n");
      replace(made, h("div.card", { role: "status" }, h("p", {}, t("admin.codesCreated", { count: out.codes.length })), h("pre", { "aria-label": t("admin.newCodes"), translate: "no" }, text),
        copyButton(() => text, t("admin.copyCodes"))));
      await load();
    } catch (error) { showError(errors, error); }
  });
  await load();
}

function exportCsv(rows) {
  const cols = ["code", "tier", "credits", "status", "expires_at", "created_at", "redeemed_by", "redeemed_at"];
  const quote = (v) => `"${String(v ?? "").replace(/"/g, '""')}"`;
  const csv = [cols.join(","), ...rows.map((r) => cols.map((c) => quote(r[c])).join(","))].join("\n");
  const link = h("a", { href: URL.createObjectURL(new Blob([csv], { type: "text/csv" })), download: "gift-codes.csv" });
  append(document.body, link);
  link.click();
  link.remove();
}

async function settings(body) {
  const live = await api("/api/v1/admin/settings");
  const errors = h("div");
  const box = (name, checked, label) => h("label.inline", {}, h("input", { type: "checkbox", name, checked }), label);
  const signup = h("input", { type: "number", name: "signup_credits", min: "0", value: String(live.signup_credits) });
  const metaText = (v) => t("admin.settingsMeta", { version: v.version, date: fmtDate(v.updated_at), who: v.updated_by || "—" });
  const meta = h("p.muted.small", { "aria-live": "polite" }, metaText(live));
  const form = h("form.card", {},
    h("fieldset", {}, h("legend", {}, t("admin.service")),
      box("maintenance_mode", live.maintenance_mode, t("admin.maintenance")),
      box("chat_enabled", live.chat_enabled, t("admin.chatEnabled")), box("images_enabled", live.images_enabled, t("admin.imagesEnabled"))),
    h("fieldset", {}, h("legend", {}, t("admin.providers")), Object.entries(live.providers).map(([n, on]) => box(`provider:${n}`, on, h("span", { translate: "no" }, n)))),
    field(t("admin.signupCredits"), signup),
    h("div.actions", {}, h("button.primary", { type: "submit" }, t("admin.saveSettings"))),
    meta, errors);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const get = (n) => form.querySelector(`[name="${n}"]`).checked;
    const patch = { maintenance_mode: get("maintenance_mode"), chat_enabled: get("chat_enabled"), images_enabled: get("images_enabled"),
      signup_credits: Number(signup.value), providers: Object.fromEntries(Object.keys(live.providers).map((n) => [n, get(`provider:${n}`)])) };
    try {
      const saved = await api("/api/v1/admin/settings", { method: "PATCH", body: patch });
      meta.textContent = metaText(saved);
      toast(t("admin.settingsSaved"));
      const banner = document.getElementById("banner");
      banner.hidden = !patch.maintenance_mode;
      banner.textContent = patch.maintenance_mode ? t("problem.maintenance") : "";
    } catch (error) { showError(errors, error); }
  });
  append(body, form);
}

async function audit(body) {
  const page = await api("/api/v1/admin/audit-log?limit=50");
  append(body, page.items.length ? h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": t("admin.audit") }, h("table", {},
    h("thead", {}, h("tr", {}, ["credits.when", "admin.who", "admin.action", "admin.target", "credits.change"].map((c) => h("th", { scope: "col" }, t(c))))),
    h("tbody", {}, page.items.map((e) => h("tr", {}, h("td", {}, fmtDate(e.at)), h("td", { translate: "no" }, e.actor_id), h("td", { translate: "no" }, e.action),
      h("td", { translate: "no" }, e.target || "—"), h("td", {}, h("code.small", { translate: "no" }, summarise(e.before, e.after))))))))
    : h("p.muted", {}, t("admin.noActions")));
}

/** A value of an audit entry as JSON; "—" for none (JSON.stringify(undefined) is undefined, which
 * showed as the word "undefined" in the screenshots). */
const shown = (value) => (value === undefined || value === null ? "—" : JSON.stringify(value));

function summarise(before, after) {
  return Object.keys(after || {}).filter((k) => JSON.stringify(before?.[k]) !== JSON.stringify(after[k]))
    .map((k) => `${k}: ${shown(before?.[k])} → ${shown(after[k])}`).join("; ") || "—";
}
