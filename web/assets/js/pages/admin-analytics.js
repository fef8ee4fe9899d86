// Admin analytics (contract §19): revenue, provider cost and margin per UTC day, credits and active
// users, margin by plan and by model, the costliest users; Chart.js (web/assets/js/charts.js).
import { api } from "../api.js";
import { serviceBudgetCard } from "../alerts.js";
import { COLOURS, loadChart } from "../charts.js";
import { fmtNumber, t } from "../i18n.js";
import { append, field, h, replace, showError } from "../ui.js";

const isoDay = (date) => date.toISOString().slice(0, 10);
const usd = (value) => fmtNumber(value, { style: "currency", currency: "USD", maximumFractionDigits: 4 });
// a fresh object per chart: Chart.js keeps (and fills in) the options it is given
const options = (more = {}) => ({ animation: false, responsive: true, maintainAspectRatio: false, ...more });

function table(caption, columns, rows) {
  return h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": caption }, h("table", {},
    h("thead", {}, h("tr", {}, columns.map(([title]) => h("th", { scope: "col" }, title)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell, numeric]) =>
      // names (plans, models, users) are data, not text of the app: not translated
      h(numeric ? "td.num" : "td", numeric ? {} : { translate: "no" }, String(cell(row)))))))));
}

export async function analytics(body) {
  const days = h("select", { name: "period" }, [7, 30, 90].map((n) => h("option", { value: String(n), selected: n === 30 }, t("analytics.lastDays", { count: n }))));
  const errors = h("div");
  const totals = h("p.muted", { "aria-live": "polite" });
  const money = h("canvas", { role: "img", "aria-label": t("analytics.moneyChart"), id: "analytics-money" });
  const usage = h("canvas", { role: "img", "aria-label": t("analytics.usageChart"), id: "analytics-usage" });
  const models = h("canvas", { role: "img", "aria-label": t("analytics.byModelChart"), id: "analytics-models" });
  const tables = h("div");
  append(body, h("div.card", {}, field(t("analytics.period"), days), errors), totals,
    h("div.card", {}, h("h2", {}, t("analytics.money")), h("div.chart", {}, money)),
    h("div.card", {}, h("h2", {}, t("analytics.usage")), h("div.chart", {}, usage)),
    h("div.card", {}, h("h2", {}, t("analytics.byModelChart")), h("div.chart", {}, models)),
    tables, await serviceBudgetCard());
  const charts = [];

  async function load() {
    showError(errors, null);
    const to = new Date();
    const from = new Date(to.getTime() - (Number(days.value) - 1) * 86400000);
    try {
      const [Chart, data] = await Promise.all([loadChart(), api(`/api/v1/admin/analytics?from=${isoDay(from)}&to=${isoDay(to)}`)]);
      charts.splice(0).forEach((chart) => chart.destroy());
      const t0 = data.totals;
      replace(totals, t("analytics.totals", { revenue: usd(t0.revenue_usd), cost: usd(t0.provider_cost_usd),
        margin: usd(t0.margin_usd), credits: t0.credits_spent, from: data.from, to: data.to })
        + (data.other_currency_payments ? " " + t("analytics.otherCurrency", { count: data.other_currency_payments }) : ""));
      const labels = data.days.map((d) => d.date);
      charts.push(new Chart(money, { type: "bar", options: options(), data: { labels, datasets: [
        { label: t("analytics.revenue"), data: data.days.map((d) => d.revenue_usd), backgroundColor: COLOURS[2] },
        { label: t("analytics.cost"), data: data.days.map((d) => d.provider_cost_usd), backgroundColor: COLOURS[1] },
        { label: t("analytics.margin"), type: "line", data: data.days.map((d) => d.margin_usd), borderColor: COLOURS[0], backgroundColor: COLOURS[0] }] } }));
      charts.push(new Chart(usage, { type: "line", options: options({ scales: { users: { position: "right", beginAtZero: true } } }),
        data: { labels, datasets: [
          { label: t("analytics.credits"), data: data.days.map((d) => d.credits_spent), borderColor: COLOURS[4], backgroundColor: COLOURS[4] },
          { label: t("analytics.active"), yAxisID: "users", data: data.days.map((d) => d.active_users), borderColor: COLOURS[3], backgroundColor: COLOURS[3] }] } }));
      charts.push(new Chart(models, { type: "bar", options: options({ indexAxis: "y" }), data: {
        labels: data.by_model.map((m) => m.model), datasets: [
          { label: t("analytics.cost"), data: data.by_model.map((m) => m.provider_cost_usd), backgroundColor: COLOURS[1] },
          { label: t("analytics.margin"), data: data.by_model.map((m) => m.margin_usd), backgroundColor: COLOURS[0] }] } }));
      const group = [[t("analytics.requests"), (r) => r.requests, true], [t("analytics.creditsShort"), (r) => r.credits_spent, true],
        [t("analytics.tokensIn"), (r) => r.tokens_in, true], [t("analytics.tokensOut"), (r) => r.tokens_out, true],
        [t("analytics.costShort"), (r) => usd(r.provider_cost_usd), true], [t("analytics.revenueShort"), (r) => usd(r.revenue_usd), true],
        [t("analytics.marginShort"), (r) => usd(r.margin_usd), true]];
      replace(tables,
        h("h2", {}, t("analytics.byPlan")), table(t("analytics.byPlan"), [[t("analytics.plan"), (r) => r.plan], ...group], data.by_plan),
        h("h2", {}, t("analytics.byModel")), table(t("analytics.byModel"), [[t("analytics.model"), (r) => r.model], ...group], data.by_model),
        h("h2", {}, t("analytics.top")), table(t("analytics.top"), [
          [t("analytics.user"), (r) => r.email || r.user_id], [t("analytics.requests"), (r) => r.requests, true],
          [t("analytics.creditsShort"), (r) => r.credits_spent, true], [t("analytics.costShort"), (r) => usd(r.provider_cost_usd), true]],
        data.top_users_by_cost));
    } catch (error) { showError(errors, error); }
  }
  days.addEventListener("change", load);
  await load();
}
