// Credits: allowance / gift / balance, buy packs, plans and subscription, gift codes, ledger, payments.
import { api, newIdempotencyKey } from "../api.js";
import { currentCredits, loadPlans, setCredits } from "../state.js";
import { append, field, fmtDate, fmtRelative, h, humane, replace, showError, toast } from "../ui.js";

/** How each payment processor of GET /plans `payment_providers` is named to people. */
export const PROCESSOR_NAMES = { paypal: "PayPal", stripe: "Card (Stripe)" };

export async function creditsPage(main) {
  const plans = await loadPlans();
  const processors = plans.payment_providers || [];
  let processor = processors[0] || null;  // the server's default comes first (PAYMENT_PROVIDERS)
  const summary = h("div.cards", { "aria-live": "polite" });
  const errors = h("div");
  const packs = h("div.cards");
  const planBox = h("div");
  const ledger = h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": "Table" });
  const payments = h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": "Table" });
  const code = h("input", { name: "code", required: true, autocomplete: "off", placeholder: "XXXX-XXXX-XXXX-XXXX", maxlength: "64" });
  const redeemErrors = h("div");
  const redeem = h("form.card", {}, field("Gift code", code, "Letters and digits; dashes and case don't matter."),
    h("div.actions", {}, h("button.primary", { type: "submit" }, "Redeem")), redeemErrors);
  // History and payments load when opened: a page load spends few of the plan's requests.
  const history = h("details.section", {}, h("summary", {}, h("h2", {}, "History")), ledger);
  const paid = h("details.section", {}, h("summary", {}, h("h2", {}, "Payments")), payments);
  const choice = processors.length > 1 ? h("fieldset.card", {}, h("legend", {}, "Pay with"),
    processors.map((name, i) => h("label.inline", {}, h("input", {
      type: "radio", name: "processor", value: name, checked: i === 0,
      onchange: () => { processor = name; },
    }), ` ${PROCESSOR_NAMES[name] || name}`))) : null;
  const billing = processors.includes("stripe") ? h("div.actions", {}, h("button", { type: "button", onclick: async (event) => {
    event.target.disabled = true;
    try { location.assign((await api("/api/v1/billing/portal", { method: "POST" })).url); }
    catch (error) {
      showError(errors, error.status === 404
        ? { ...error, detail: "You have no card billing account yet: it is made with your first card payment." } : error);
      event.target.disabled = false;
    }
  } }, "Manage card billing")) : null;
  append(main, h("h1", {}, "Credits"), summary, errors,
    h("h2", {}, "Buy credits"), choice, packs,
    h("h2", {}, "Plans"), planBox, billing,
    h("h2", {}, "Redeem a gift code"), redeem,
    history, paid);
  const onOpen = (details, load) => details.addEventListener("toggle", () => {
    if (details.open) load().catch((error) => showError(errors, error));
  });
  onOpen(history, () => renderLedger());
  onOpen(paid, () => renderPayments());

  function renderSummary(c) {
    replace(summary,
      h("div.card", {}, h("div.muted", {}, `Daily allowance (${c.allowance.plan})`), h("div.stat", { "data-testid": "allowance" }, `${c.allowance.remaining} / ${c.allowance.limit}`),
        h("div.small.muted", {}, `Resets ${fmtRelative(c.allowance.resets_at)} (${fmtDate(c.allowance.resets_at)})`)),
      h("div.card", {}, h("div.muted", {}, "Gift"), h("div.stat", {}, c.gift ? String(c.gift.remaining) : "—"),
        h("div.small.muted", {}, c.gift ? `${c.gift.tier}, expires ${fmtDate(c.gift.expires_at)}` : "No active gift")),
      h("div.card", {}, h("div.muted", {}, "Balance"), h("div.stat", { "data-testid": "balance" }, String(c.balance)),
        h("div.small.muted", {}, "Purchased and granted credits; never expire")),
      h("div.card", {}, h("div.muted", {}, "Spendable now"), h("div.stat", { "data-testid": "spendable" }, String(c.spendable))));
  }

  replace(packs, plans.credit_packs.map((pack) => {
    const buy = h("button.primary", { type: "button" }, `Buy ${pack.credits} credits — ${pack.price} ${pack.currency}`);
    const keys = {};  // a retry of the same purchase (same pack, same processor) reuses its key
    buy.addEventListener("click", async () => {
      buy.disabled = true;
      try {
        const order = await api("/api/v1/payments/checkout", { method: "POST", body: processor ? { pack: pack.name, provider: processor } : { pack: pack.name },
                                                            idempotent: true, idempotencyKey: keys[processor] ??= newIdempotencyKey() });
        location.assign(order.approve_url || order.checkout_url);
      } catch (error) { showError(errors, error); buy.disabled = false; }
    });
    return h("div.card", {}, h("div.stat", {}, String(pack.credits)), h("p.muted", {}, `credits for ${pack.price} ${pack.currency}`), buy);
  }));

  async function renderPlans() {
    const current = await api("/api/v1/subscriptions/current");  // null: no subscription
    const active = current && !["CANCELLED", "EXPIRED"].includes(current.status) ? current : null;
    replace(planBox,
      active ? h("div.card", {}, h("p", {}, `Your subscription: ${active.plan} (${active.status})`,
        active.current_period_end ? `, renews ${fmtDate(active.current_period_end)}` : ""),
        active.status === "APPROVAL_PENDING" && (active.approve_url || active.checkout_url) ? h("a.button", { href: active.approve_url || active.checkout_url }, `Finish at ${PROCESSOR_NAMES[active.provider] || "the payment provider"}`) : null,
        h("button.danger", { type: "button", onclick: async (event) => {
          if (!confirm("Cancel your subscription?")) return;
          try { await api("/api/v1/subscriptions/current", { method: "DELETE" }); toast("Subscription cancelled."); renderPlans(); }
          catch (error) { showError(errors, error); event.target.disabled = false; }
        } }, "Cancel subscription")) : null,
      h("div.cards", {}, plans.plans.map((plan) => h("div.card", {},
        h("h3", {}, plan.name), h("p", {}, `${plan.daily_credits} credits a day`),
        h("p.muted", {}, plan.interval ? `${plan.price_usd} USD / ${plan.interval}` : "Free"),
        plan.interval && !active ? h("button", { type: "button", onclick: async (event) => {
          event.target.disabled = true;
          try {
            const body = processor ? { plan: plan.name, provider: processor } : { plan: plan.name };
            const sub = await api("/api/v1/subscriptions", { method: "POST", body, idempotent: true });
            location.assign(sub.approve_url || sub.checkout_url);
          } catch (error) { showError(errors, error); event.target.disabled = false; }
        } }, `Subscribe to ${plan.name}`) : null))));
  }

  async function renderLedger() {
    replace(ledger, h("p.muted", {}, "Loading…"));
    const page = await api("/api/v1/credits/ledger?limit=20");
    replace(ledger, page.items.length ? h("table", {}, h("caption.muted.small", {}, "Latest 20 changes"),
      h("thead", {}, h("tr", {}, ["When", "Change", "Kind", "Balance after", "Reason"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, page.items.map((e) => h("tr", {}, h("td", {}, fmtDate(e.at)), h("td", {}, e.delta > 0 ? `+${e.delta}` : String(e.delta)),
        h("td", {}, e.kind), h("td", {}, String(e.balance_after ?? "")), h("td", {}, e.reason || e.ref || "")))))
      : h("p.muted", {}, "No credit changes yet."));
  }

  async function renderPayments() {
    replace(payments, h("p.muted", {}, "Loading…"));
    const page = await api("/api/v1/payments?limit=20");
    replace(payments, page.items.length ? h("table", {},
      h("thead", {}, h("tr", {}, ["When", "Pack", "Amount", "Paid with", "Status"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, page.items.map((p) => h("tr", {}, h("td", {}, fmtDate(p.created_at)), h("td", {}, `${p.pack} (${p.credits})`),
        h("td", {}, `${p.amount} ${p.currency}`), h("td", {}, PROCESSOR_NAMES[p.provider] || p.provider || ""),
        h("td", {}, p.status)))))
      : h("p.muted", {}, "No payments yet."));
  }

  redeem.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(redeemErrors, null);
    try {
      const credits = await api("/api/v1/gift-codes/redeem", { method: "POST", body: { code: code.value.trim() } });
      renderSummary(setCredits(credits));  // the answer carries the credits: no second read
      code.value = "";
      toast("Gift code redeemed.");
      if (history.open) renderLedger().catch(() => {});
    } catch (error) {
      const messages = { 404: "That code doesn't exist. Check it for typos.", 409: "That code was already redeemed.", 410: "That code has expired." };
      showError(redeemErrors, messages[error.status] ? { ...error, detail: messages[error.status], requestId: error.requestId, code: error.code } : error);
    }
  });

  renderSummary(await currentCredits());
  await renderPlans().catch((error) => showError(errors, error));
  void humane;
}
