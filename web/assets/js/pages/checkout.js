// Back from the payment provider: show the credited pack (or that it is pending / declined).
import { api } from "../api.js";
import { refreshCredits } from "../state.js";
import { t, tValue } from "../i18n.js";
import { append, fmtNumber, h } from "../ui.js";

export async function checkoutPage(main, [outcome], query) {
  if (outcome === "cancel") {
    append(main, h("h1", {}, t("checkout.cancelled")), h("p", {}, t("checkout.nothingCharged")),
      h("a.button", { href: "/credits", "data-link": true }, t("checkout.back")));
    return;
  }
  const id = query.get("payment_id");
  const page = await api("/api/v1/payments?limit=50");
  const payment = page.items.find((p) => p.id === id);
  const credits = await refreshCredits();
  const box = h("div.card", { role: "status" });
  if (!payment) append(box, h("p", {}, t("checkout.notFound")));
  else if (payment.status === "COMPLETED") {
    append(box, h("p.stat", {}, `+${t("credits.count", { count: payment.credits })}`),
      h("p", {}, t("checkout.thanks", { pack: payment.pack, balance: fmtNumber(credits.balance) })));
  } else if (payment.status === "PENDING") {
    append(box, h("p", {}, t("checkout.pending")));
  } else {
    append(box, h("p", {}, t("checkout.notCompleted", { status: tValue("status", payment.status) })));
  }
  append(main, h("h1", {}, t(payment?.status === "COMPLETED" ? "checkout.complete" : "checkout.status")), box,
    h("div.actions", {}, h("a.button", { href: "/credits", "data-link": true }, t("checkout.back"))));
}
