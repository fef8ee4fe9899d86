// Credits: allowance / gift / balance, buy packs, plans and subscription, gift codes, ledger, payments.
import { api, newIdempotencyKey } from "../api.js";
import { currentCredits, loadPlans, setCredits } from "../state.js";
import { t, tValue } from "../i18n.js";
import { append, field, fmtDate, fmtNumber, fmtRelative, h, replace, showError, toast } from "../ui.js";

/** How each payment processor of GET /plans `payment_providers` is named to people. */
/** How a payment processor of GET /plans `payment_providers` is named to people (a brand stays as it is). */
export const processorName = (name) => (name === "stripe" ? t("credits.card") : name === "paypal" ? "PayPal" : name);
const processorLabel = (name) => (name === "stripe" ? t("credits.card") : h("span", { translate: "no" }, processorName(name)));

export async function creditsPage(main) {
  const plans = await loadPlans();
  const processors = plans.payment_providers || [];
  let processor = processors[0] || null;  // the server's default comes first (PAYMENT_PROVIDERS)
  const summary = h("div.cards", { "aria-live": "polite" });
  const errors = h("div");
  const packs = h("div.cards");
  const planBox = h("div");
  const ledger = h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": t("credits.history") });
  const payments = h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": t("credits.payments") });
  const code = h("input", { name: "code", required: true, autocomplete: "off", placeholder: "XXXX-XXXX-XXXX-XXXX", maxlength: "64", translate: "no" });  // a format, not words
  const redeemErrors = h("div");
  const redeem = h("form.card", {}, field(t("credits.giftCode"), code, t("credits.giftCodeHint")),
    h("div.actions", {}, h("button.primary", { type: "submit" }, t("credits.redeem"))), redeemErrors);
  // History and payments load when opened: a page load spends few of the plan's requests.
  const history = h("details.section", {}, h("summary", {}, h("h2", {}, t("credits.history"))), ledger);
  const paid = h("details.section", {}, h("summary", {}, h("h2", {}, t("credits.payments"))), payments);
  const choice = processors.length > 1 ? h("fieldset.card", {}, h("legend", {}, t("credits.payWith")),
    processors.map((name, i) => h("label.inline", {}, h("input", {
      type: "radio", name: "processor", value: name, checked: i === 0,
      onchange: () => { processor = name; },
    }), " ", processorLabel(name)))) : null;
  const billing = processors.includes("stripe") ? h("div.actions", {}, h("button", { type: "button", onclick: async (event) => {
    event.target.disabled = true;
    try { location.assign((await api("/api/v1/billing/portal", { method: "POST" })).url); }
    catch (error) {
      showError(errors, error.status === 404
        ? { detail: t("credits.noBilling"), requestId: error.requestId } : error);
      event.target.disabled = false;
    }
  } }, t("credits.manageBilling"))) : null;
  append(main, h("h1", {}, t("nav.credits")), summary, errors,
    h("h2", {}, t("credits.buy")), choice, packs,
    h("h2", {}, t("credits.plans")), planBox, billing,
    h("h2", {}, t("credits.redeemTitle")), redeem,
    history, paid);
  const onOpen = (details, load) => details.addEventListener("toggle", () => {
    if (details.open) load().catch((error) => showError(errors, error));
  });
  onOpen(history, () => renderLedger());
  onOpen(paid, () => renderPayments());

  function renderSummary(c) {
    replace(summary,
      h("div.card", {}, h("div.muted", {}, t("credits.allowance", { plan: c.allowance.plan })), h("div.stat", { "data-testid": "allowance" }, `${fmtNumber(c.allowance.remaining)} / ${fmtNumber(c.allowance.limit)}`),
        h("div.small.muted", {}, t("credits.resets", { when: fmtRelative(c.allowance.resets_at), date: fmtDate(c.allowance.resets_at) }))),
      h("div.card", {}, h("div.muted", {}, t("credits.gift")), h("div.stat", {}, c.gift ? fmtNumber(c.gift.remaining) : "—"),
        h("div.small.muted", {}, c.gift ? t("credits.giftExpires", { tier: c.gift.tier, date: fmtDate(c.gift.expires_at) }) : t("credits.noGift"))),
      h("div.card", {}, h("div.muted", {}, t("credits.balance")), h("div.stat", { "data-testid": "balance" }, fmtNumber(c.balance)),
        h("div.small.muted", {}, t("credits.balanceNote"))),
      h("div.card", {}, h("div.muted", {}, t("credits.spendable")), h("div.stat", { "data-testid": "spendable" }, fmtNumber(c.spendable))));
  }

  replace(packs, plans.credit_packs.map((pack) => {
    const price = fmtNumber(Number(pack.price), { style: "currency", currency: pack.currency });
    const buy = h("button.primary", { type: "button" }, t("credits.buyPack", { credits: t("credits.count", { count: pack.credits }), price }));
    const keys = {};  // a retry of the same purchase (same pack, same processor) reuses its key
    buy.addEventListener("click", async () => {
      buy.disabled = true;
      try {
        const order = await api("/api/v1/payments/checkout", { method: "POST", body: processor ? { pack: pack.name, provider: processor } : { pack: pack.name },
                                                            idempotent: true, idempotencyKey: keys[processor] ??= newIdempotencyKey() });
        location.assign(order.approve_url || order.checkout_url);
      } catch (error) { showError(errors, error); buy.disabled = false; }
    });
    return h("div.card", {}, h("div.stat", {}, fmtNumber(pack.credits)), h("p.muted", {}, t("credits.packFor", { count: pack.credits, price })), buy);
  }));

  async function renderPlans() {
    const current = await api("/api/v1/subscriptions/current");  // null: no subscription
    const active = current && !["CANCELLED", "EXPIRED"].includes(current.status) ? current : null;
    replace(planBox,
      active ? h("div.card", {}, h("p", {}, t("credits.subscription", { plan: active.plan, status: tValue("status", active.status) }),
        active.current_period_end ? t("credits.renews", { date: fmtDate(active.current_period_end) }) : ""),
        active.status === "APPROVAL_PENDING" && (active.approve_url || active.checkout_url) ? h("a.button", { href: active.approve_url || active.checkout_url }, t("credits.finishAt", { provider: active.provider ? processorName(active.provider) : t("credits.theProvider") })) : null,
        h("button.danger", { type: "button", onclick: async (event) => {
          if (!confirm(t("credits.confirmCancel"))) return;
          try { await api("/api/v1/subscriptions/current", { method: "DELETE" }); toast(t("credits.cancelledToast")); renderPlans(); }
          catch (error) { showError(errors, error); event.target.disabled = false; }
        } }, t("credits.cancel"))) : null,
      h("div.cards", {}, plans.plans.map((plan) => h("div.card", {},
        h("h3", { translate: "no" }, plan.name), h("p", {}, t("credits.perDay", { count: plan.daily_credits })),
        h("p.muted", {}, plan.interval ? t("credits.planPrice", { price: fmtNumber(Number(plan.price_usd), { style: "currency", currency: "USD" }), interval: tValue("interval", plan.interval) }) : t("credits.free")),
        plan.interval && !active ? h("button", { type: "button", onclick: async (event) => {
          event.target.disabled = true;
          try {
            const body = processor ? { plan: plan.name, provider: processor } : { plan: plan.name };
            const sub = await api("/api/v1/subscriptions", { method: "POST", body, idempotent: true });
            location.assign(sub.approve_url || sub.checkout_url);
          } catch (error) { showError(errors, error); event.target.disabled = false; }
        } }, t("credits.subscribe", { plan: plan.name })) : null))));
  }

  async function renderLedger() {
    replace(ledger, h("p.muted", {}, t("page.loading")));
    const page = await api("/api/v1/credits/ledger?limit=20");
    replace(ledger, page.items.length ? h("table", {}, h("caption.muted.small", {}, t("credits.latest")),
      h("thead", {}, h("tr", {}, ["credits.when", "credits.change", "media.kind", "credits.balanceAfter", "credits.reason"].map((c) => h("th", { scope: "col" }, t(c))))),
      h("tbody", {}, page.items.map((e) => h("tr", {}, h("td", {}, fmtDate(e.at)), h("td", {}, fmtNumber(e.delta, { signDisplay: "exceptZero" })),
        h("td", {}, tValue("ledger", e.kind)), h("td", {}, e.balance_after === null || e.balance_after === undefined ? "" : fmtNumber(e.balance_after)),
        h("td", { translate: "no" }, e.reason || e.ref || "")))))
      : h("p.muted", {}, t("credits.noChanges")));
  }

  async function renderPayments() {
    replace(payments, h("p.muted", {}, t("page.loading")));
    const page = await api("/api/v1/payments?limit=20");
    replace(payments, page.items.length ? h("table", {},
      h("thead", {}, h("tr", {}, ["credits.when", "credits.pack", "credits.amount", "credits.paidWith", "video.status"].map((c) => h("th", { scope: "col" }, t(c))))),
      h("tbody", {}, page.items.map((p) => h("tr", {}, h("td", {}, fmtDate(p.created_at)), h("td", {}, h("span", { translate: "no" }, p.pack), ` (${fmtNumber(p.credits)})`),
        h("td", {}, fmtNumber(Number(p.amount), { style: "currency", currency: p.currency })), h("td", {}, p.provider ? processorLabel(p.provider) : ""),
        h("td", {}, tValue("status", p.status))))))
      : h("p.muted", {}, t("credits.noPayments")));
  }

  redeem.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(redeemErrors, null);
    try {
      const credits = await api("/api/v1/gift-codes/redeem", { method: "POST", body: { code: code.value.trim() } });
      renderSummary(setCredits(credits));  // the answer carries the credits: no second read
      code.value = "";
      toast(t("credits.redeemed"));
      if (history.open) renderLedger().catch(() => {});
    } catch (error) {
      const messages = { 404: "credits.codeUnknown", 409: "credits.codeUsed", 410: "credits.codeExpired" };
      showError(redeemErrors, messages[error.status] ? { detail: t(messages[error.status]), requestId: error.requestId, code: error.code } : error);
    }
  });

  renderSummary(await currentCredits());
  await renderPlans().catch((error) => showError(errors, error));
}
