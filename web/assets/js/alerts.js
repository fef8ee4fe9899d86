// Budget alerts (contract §19): the banner shown while a threshold is reached (the caller's monthly
// credits; for admins also the service's daily provider cost), and the form that sets the caller's.
import { api } from "./api.js";
import { fmtNumber, t } from "./i18n.js";
import { hasRole } from "./state.js";
import { field, h, replace, showError, toast } from "./ui.js";

/** Show (or hide) the budget banner from the alerts' `crossed`. */
export async function showBudgetBanner() {
  const banner = document.getElementById("budget-banner");
  if (!banner) return;
  const lines = [];
  try {
    const mine = await api("/api/v1/me/alerts");
    if (mine.crossed) lines.push(t("alerts.userCrossed", { spent: mine.spent_this_month, limit: mine.monthly_credits }));
    if (hasRole("ADMIN")) {
      const service = await api("/api/v1/admin/alerts");
      if (service.crossed) {
        lines.push(t("alerts.serviceCrossed", { cost: fmtNumber(service.cost_today_usd, { style: "currency", currency: "USD" }),
          limit: fmtNumber(service.daily_provider_cost_usd, { style: "currency", currency: "USD" }) }));
      }
    }
  } catch { /* a banner is a nicety: never break the page for it */ }
  banner.hidden = !lines.length;
  replace(banner, lines.join(" "));
}

/** A card with the form of one alert: `name` is the threshold field of the alert at `path`, shown
 * in `input`; `describe(alert)` is the status line under it. */
async function alertCard({ title, label, hint, input, path, name, describe }) {
  const errors = h("div");
  const status = h("p.muted", { "aria-live": "polite" });
  const show = (alert) => {
    input.value = alert[name] ?? "";
    replace(status, describe(alert));
  };
  const form = h("form.card", { "aria-label": title }, h("h2", {}, title),
    field(label, input, hint), status, errors,
    h("div.actions", {}, h("button", { type: "submit" }, t("alerts.save"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    try {
      const value = input.value.trim() === "" ? null : Number(input.value);
      show(await api(path, { method: "PUT", body: { [name]: value } }));
      toast(t("alerts.saved"));
      showBudgetBanner();
    } catch (error) { showError(errors, error); }
  });
  try { show(await api(path)); } catch (error) { showError(errors, error); }
  return form;
}

/** The caller's monthly credits alert: a card with its form. */
export async function budgetCard() {
  return alertCard({
    title: t("alerts.title"), label: t("alerts.monthly"), hint: t("alerts.hint"), path: "/api/v1/me/alerts",
    name: "monthly_credits",
    input: h("input", { type: "number", name: "monthly_credits", min: "1", max: "1000000000", step: "1", inputmode: "numeric" }),
    describe: (alert) => (alert.monthly_credits == null ? t("alerts.none")
      : t("alerts.state", { spent: alert.spent_this_month, limit: alert.monthly_credits })),
  });
}

/** The service-wide daily provider cost alert (admin analytics). */
export async function serviceBudgetCard() {
  return alertCard({
    title: t("alerts.serviceTitle"), label: t("alerts.daily"), path: "/api/v1/admin/alerts",
    name: "daily_provider_cost_usd",
    input: h("input", { type: "number", name: "daily_provider_cost_usd", min: "0.01", step: "0.01", inputmode: "decimal" }),
    describe: (alert) => t("alerts.costToday", { cost: fmtNumber(alert.cost_today_usd, { style: "currency", currency: "USD" }) }),
  });
}
