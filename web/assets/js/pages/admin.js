// Admin console (ADMIN only): stats, provider health, users, gift codes, live settings, audit log.
import { api } from "../api.js";
import { analytics } from "./admin-analytics.js";
import { loadPlans } from "../state.js";
import { append, copyButton, field, fmtDate, h, replace, showError, toast } from "../ui.js";

const SECTIONS = [["", "Overview"], ["analytics", "Analytics"], ["users", "Users"], ["gift-codes", "Gift codes"], ["settings", "Settings"], ["audit", "Audit log"]];

export async function adminPage(main, [section = "", id]) {
  append(main, h("h1", {}, "Admin"), h("nav.tabs.sub-nav", { "aria-label": "Admin sections" }, SECTIONS.map(([path, label]) =>
    h("a", { href: `/admin${path ? "/" + path : ""}`, "data-link": true, "aria-current": section === path ? "page" : null }, label))));
  const body = h("div");
  append(main, body);
  const pages = { "": overview, analytics, users: id ? userDetail : users, "gift-codes": giftCodes, settings, audit };
  await (pages[section] || overview)(body, id);
}

function bars(title, entries) {
  const max = Math.max(1, ...entries.map(([, v]) => v));
  return h("figure.card", {}, h("figcaption", {}, h("strong", {}, title)),
    entries.map(([label, value]) => {
      const bar = h("div.bar", { role: "presentation" });
      bar.style.width = `${(100 * value) / max}%`;
      return h("div.barrow", {}, h("span.small", {}, label), h("div", {}, bar), h("span.small", {}, String(value)));
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
      h("div.card", {}, h("div.muted", {}, "Users"), h("div.stat", {}, String(stats.users.total)),
        h("div.small.muted", {}, `${stats.users.new_24h} new, ${stats.users.active_24h} active in 24 h`)),
      h("div.card", {}, h("div.muted", {}, "Credits spent (24 h)"), h("div.stat", {}, String(stats.credits.spent_24h)),
        h("div.small.muted", {}, `${stats.credits.purchased_30d} purchased in 30 d`)),
      revenue.map(([cur, r]) => h("div.card", {}, h("div.muted", {}, `Revenue 30 d (${cur})`), h("div.stat", {}, r.net),
        h("div.small.muted", {}, `${r.payments} payments, ${r.refunded} refunded`)))),
    h("div.cards.wide", {}, bars("Generations in 24 h", Object.entries(stats.generations)),
      bars("Provider calls", providerRows.map(([k, n, p]) => [`${k}:${n}`, p.calls || 0]))),
    h("h2", {}, "Provider health"),
    h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": "Table" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Kind", "Provider", "Circuit", "Enabled", "Calls", "Failures"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, providerRows.map(([k, n, p]) => h("tr", {}, h("td", {}, k), h("td", {}, n),
        h("td", {}, p.state === "closed" ? "✔ closed" : `⚠ ${p.state}`), h("td", {}, p.enabled === false ? "off" : "on"),
        h("td", {}, String(p.calls ?? 0)), h("td", {}, String(p.failures ?? 0))))))),
    h("p.muted.small", {}, `Generated ${fmtDate(stats.generated_at)}`));
}

async function users(body) {
  const q = h("input", { type: "search", name: "q", placeholder: "email, name or ID" });
  const table = h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": "Table" });
  const errors = h("div");
  const form = h("form.row", { role: "search" }, field("Search users", q), h("div.actions", {}, h("button", { type: "submit" }, "Search")));
  append(body, form, errors, table);
  async function load() {
    try {
      const page = await api(`/api/v1/admin/users?${new URLSearchParams(q.value ? { q: q.value } : {})}`);
      replace(table, h("table", {}, h("thead", {}, h("tr", {}, ["User", "Role", "Plan", "Status", "Joined"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, page.items.map((u) => h("tr", {},
          h("td", {}, h("a", { href: `/admin/users/${u.id}`, "data-link": true }, u.email || u.name || u.clerk_id || u.id)),
          h("td", {}, u.role), h("td", {}, u.plan), h("td", {}, u.disabled ? "disabled" : "active"), h("td", {}, fmtDate(u.created_at)))))));
    } catch (error) { showError(errors, error); }
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  await load();
}

async function userDetail(body, id) {
  const [user, plans] = await Promise.all([api(`/api/v1/admin/users/${id}`), loadPlans()]);
  const errors = h("div");
  const role = h("select", { name: "role" }, ["USER", "SUBSCRIBER", "ADMIN"].map((r) => h("option", { value: r, selected: r === user.role }, r)));
  const plan = h("select", { name: "plan" }, plans.plans.map((p) => h("option", { value: p.name, selected: p.name === user.plan }, p.name)));
  const disabled = h("input", { type: "checkbox", name: "disabled", checked: user.disabled });
  const edit = h("form.card", {}, h("div.row", {}, field("Role", role), field("Plan", plan)),
    h("label.inline", {}, disabled, "Disabled (cannot sign in or use keys)"), h("div.actions", {}, h("button.primary", { type: "submit" }, "Save changes")));
  edit.addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await api(`/api/v1/admin/users/${id}`, { method: "PATCH", body: { role: role.value, plan: plan.value, disabled: disabled.checked } }); toast("User updated."); }
    catch (error) { showError(errors, error); }
  });
  const delta = h("input", { type: "number", name: "delta", required: true, step: "1" });
  const reason = h("input", { name: "reason", required: true, maxlength: "500" });
  const adjust = h("form.card", {}, h("div.row", {}, field("Credits (+/−)", delta), field("Reason", reason)),
    h("div.actions", {}, h("button", { type: "submit" }, "Adjust balance")));
  const credits = h("p", {}, user.credits ? `Balance ${user.credits.balance}, spendable ${user.credits.spendable}` : "");
  adjust.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const out = await api(`/api/v1/admin/users/${id}/credits`, { method: "POST", body: { delta: Number(delta.value), reason: reason.value } });
      credits.textContent = `Balance ${out.credits.balance}, spendable ${out.credits.spendable}`;
      toast("Balance adjusted.");
    } catch (error) { showError(errors, error); }
  });
  append(body, h("h2", {}, user.email || user.name || user.clerk_id || user.id),
    h("p.muted.small", {}, `${user.id} · joined ${fmtDate(user.created_at)}`), credits, errors, edit, adjust,
    h("h2", {}, "Recent activity"),
    h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": "Table" }, h("table", {}, h("tbody", {}, (user.generations || []).slice(0, 20).map((g) =>
      h("tr", {}, h("td", {}, g.type), h("td", {}, g.prompt || g.model || ""), h("td", {}, g.status || ""), h("td", {}, fmtDate(g.created_at))))))));
}

async function giftCodes(body) {
  const plans = await loadPlans();
  const tier = h("select", { name: "tier" }, h("option", { value: "" }, "— plain credits —"),
    plans.gift_tiers.map((t) => h("option", { value: t.name }, `${t.name} (${t.credits} credits, ${t.days} days)`)));
  const credits = h("input", { type: "number", name: "credits", min: "1" });
  const count = h("input", { type: "number", name: "count", min: "1", max: "1000", value: "1", required: true });
  const expires = h("input", { type: "date", name: "expires_at" });
  const errors = h("div");
  const made = h("div", { "aria-live": "polite" });
  const table = h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": "Table" });
  const form = h("form.card", {}, h("div.row", {}, field("Tier", tier), field("Or credits", credits), field("How many", count), field("Redeemable until (optional)", expires)),
    h("div.actions", {}, h("button.primary", { type: "submit" }, "Create codes")), errors);
  append(body, form, made, h("h2", {}, "Codes"), table);
  let rows = [];
  async function load() {
    const page = await api("/api/v1/admin/gift-codes?limit=100");
    rows = page.items;
    replace(table, h("div.actions", {}, h("button", { type: "button", onclick: () => exportCsv(rows) }, "Export CSV")),
      h("table", {}, h("thead", {}, h("tr", {}, ["Code", "Tier / credits", "Status", "Redeemed by", "Redeemed", "Created"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows.map((c) => h("tr", {}, h("td", {}, h("code", {}, c.code)), h("td", {}, c.tier || String(c.credits)), h("td", {}, c.status),
          h("td", {}, c.redeemed_by || "—"), h("td", {}, fmtDate(c.redeemed_at)), h("td", {}, fmtDate(c.created_at)))))));
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
      replace(made, h("div.card", { role: "status" }, h("p", {}, `${out.codes.length} code(s) created:`), h("pre", { "aria-label": "New gift codes" }, text),
        copyButton(() => text, "Copy codes")));
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
  const metaText = (v) => `Version ${v.version}, last changed ${fmtDate(v.updated_at)} by ${v.updated_by || "—"}. Changes apply everywhere within seconds.`;
  const meta = h("p.muted.small", { "aria-live": "polite" }, metaText(live));
  const form = h("form.card", {},
    h("fieldset", {}, h("legend", {}, "Service"),
      box("maintenance_mode", live.maintenance_mode, "Maintenance mode (everyone but admins gets a maintenance message)"),
      box("chat_enabled", live.chat_enabled, "Chat enabled"), box("images_enabled", live.images_enabled, "Images enabled")),
    h("fieldset", {}, h("legend", {}, "Providers"), Object.entries(live.providers).map(([n, on]) => box(`provider:${n}`, on, n))),
    field("Credits granted to each new user", signup),
    h("div.actions", {}, h("button.primary", { type: "submit" }, "Save settings")),
    meta, errors);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const get = (n) => form.querySelector(`[name="${n}"]`).checked;
    const patch = { maintenance_mode: get("maintenance_mode"), chat_enabled: get("chat_enabled"), images_enabled: get("images_enabled"),
      signup_credits: Number(signup.value), providers: Object.fromEntries(Object.keys(live.providers).map((n) => [n, get(`provider:${n}`)])) };
    try {
      const saved = await api("/api/v1/admin/settings", { method: "PATCH", body: patch });
      meta.textContent = metaText(saved);
      toast("Settings saved.");
      const banner = document.getElementById("banner");
      banner.hidden = !patch.maintenance_mode;
      banner.textContent = patch.maintenance_mode ? "Muse is down for maintenance. Please try again in a few minutes." : "";
    } catch (error) { showError(errors, error); }
  });
  append(body, form);
}

async function audit(body) {
  const page = await api("/api/v1/admin/audit-log?limit=50");
  append(body, page.items.length ? h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": "Table" }, h("table", {},
    h("thead", {}, h("tr", {}, ["When", "Who", "Action", "Target", "Change"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, page.items.map((e) => h("tr", {}, h("td", {}, fmtDate(e.at)), h("td", {}, e.actor_id), h("td", {}, e.action),
      h("td", {}, e.target || "—"), h("td", {}, h("code.small", {}, summarise(e.before, e.after))))))))
    : h("p.muted", {}, "No admin actions yet."));
}

function summarise(before, after) {
  return Object.keys(after || {}).filter((k) => JSON.stringify(before?.[k]) !== JSON.stringify(after[k]))
    .map((k) => `${k}: ${JSON.stringify(before?.[k])} → ${JSON.stringify(after[k])}`).join("; ") || "—";
}
