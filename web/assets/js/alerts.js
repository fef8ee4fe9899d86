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

/** The caller's monthly credits alert: a card with its form. */
export async function budgetCard() {
  const input = h("input", { type: "number", name: "monthly_credits", min: "1", max: "1000000000", step: "1", inputmode: "numeric" });
  const errors = h("div");
  const status = h("p.muted", { "aria-live": "polite" });
  const show = (alert) => {
    input.value = alert.monthly_credits ?? "";
    replace(status, alert.monthly_credits == null ? t("alerts.none")
      : t("alerts.state", { spent: alert.spent_this_month, limit: alert.monthly_credits }));
  };
  const form = h("form.card", { "aria-label": t("alerts.title") },
    h("h2", {}, t("alerts.title")),
    field(t("alerts.monthly"), input, t("alerts.hint")), status, errors,
    h("div.actions", {}, h("button", { type: "submit" }, t("alerts.save"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    try {
      const value = input.value.trim() === "" ? null : Number(input.value);
      show(await api("/api/v1/me/alerts", { method: "PUT", body: { monthly_credits: value } }));
      toast(t("alerts.saved"));
      showBudgetBanner();
    } catch (error) { showError(errors, error); }
  });
  try { show(await api("/api/v1/me/alerts")); } catch (error) { showError(errors, error); }
  return form;
}

/** The service-wide daily provider cost alert (admin analytics). */
export async function serviceBudgetCard() {
  const input = h("input", { type: "number", name: "daily_provider_cost_usd", min: "0.01", step: "0.01", inputmode: "decimal" });
  const errors = h("div");
  const status = h("p.muted", { "aria-live": "polite" });
  const show = (alert) => {
    input.value = alert.daily_provider_cost_usd ?? "";
    replace(status, t("alerts.costToday", { cost: fmtNumber(alert.cost_today_usd, { style: "currency", currency: "USD" }) }));
  };
  const form = h("form.card", { "aria-label": t("alerts.serviceTitle") }, h("h2", {}, t("alerts.serviceTitle")),
    field(t("alerts.daily"), input), status, errors,
    h("div.actions", {}, h("button", { type: "submit" }, t("alerts.save"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    try {
      const value = input.value.trim() === "" ? null : Number(input.value);
      show(await api("/api/v1/admin/alerts", { method: "PUT", body: { daily_provider_cost_usd: value } }));
      toast(t("alerts.saved"));
      showBudgetBanner();
    } catch (error) { showError(errors, error); }
  });
  try { show(await api("/api/v1/admin/alerts")); } catch (error) { showError(errors, error); }
  return form;
}
