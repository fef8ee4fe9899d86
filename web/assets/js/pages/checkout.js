// Back from the payment provider: show the credited pack (or that it is pending / declined).
import { api } from "../api.js";
import { refreshCredits } from "../state.js";
import { h } from "../ui.js";

export async function checkoutPage(main, [outcome], query) {
  if (outcome === "cancel") {
    main.append(h("h1", {}, "Checkout cancelled"), h("p", {}, "Nothing was charged."),
      h("a.button", { href: "/credits", "data-link": true }, "Back to credits"));
    return;
  }
  const id = query.get("payment_id");
  const page = await api("/api/v1/payments?limit=50");
  const payment = page.items.find((p) => p.id === id);
  const credits = await refreshCredits();
  const box = h("div.card", { role: "status" });
  if (!payment) box.append(h("p", {}, "We couldn't find that payment. If you were charged, contact support."));
  else if (payment.status === "COMPLETED") {
    box.append(h("p.stat", {}, `+${payment.credits} credits`),
      h("p", {}, `Thank you! ${payment.pack} was added to your balance. Your balance is now ${credits.balance}.`));
  } else if (payment.status === "PENDING") {
    box.append(h("p", {}, "The payment provider is still processing this payment. The credits are added as soon as it clears; nothing more to do."));
  } else {
    box.append(h("p", {}, `This payment was not completed (${payment.status.toLowerCase()}). You were not charged.`));
  }
  main.append(h("h1", {}, payment?.status === "COMPLETED" ? "Payment complete" : "Payment status"), box,
    h("div.actions", {}, h("a.button", { href: "/credits", "data-link": true }, "Back to credits")));
}
