// Back from the payment provider: show the credited pack (or that it is pending / declined).
import { api } from "../api.js";
import { refreshCredits } from "../state.js";
import { append, h } from "../ui.js";

export async function checkoutPage(main, [outcome], query) {
  if (outcome === "cancel") {
    append(main, h("h1", {}, "Checkout cancelled"), h("p", {}, "Nothing was charged."),
      h("a.button", { href: "/credits", "data-link": true }, "Back to credits"));
    return;
  }
  const id = query.get("payment_id");
  const page = await api("/api/v1/payments?limit=50");
  const payment = page.items.find((p) => p.id === id);
  const credits = await refreshCredits();
  const box = h("div.card", { role: "status" });
  if (!payment) append(box, h("p", {}, "We couldn't find that payment. If you were charged, contact support."));
  else if (payment.status === "COMPLETED") {
    append(box, h("p.stat", {}, `+${payment.credits} credits`),
      h("p", {}, `Thank you! ${payment.pack} was added to your balance. Your balance is now ${credits.balance}.`));
  } else if (payment.status === "PENDING") {
    append(box, h("p", {}, "The payment provider is still processing this payment. The credits are added as soon as it clears; nothing more to do."));
  } else {
    append(box, h("p", {}, `This payment was not completed (${payment.status.toLowerCase()}). You were not charged.`));
  }
  append(main, h("h1", {}, payment?.status === "COMPLETED" ? "Payment complete" : "Payment status"), box,
    h("div.actions", {}, h("a.button", { href: "/credits", "data-link": true }, "Back to credits")));
}
