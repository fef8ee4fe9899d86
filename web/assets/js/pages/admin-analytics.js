// Admin analytics (contract §19): revenue, provider cost and margin per UTC day, credits and active
// users, margin by plan and by model, the costliest users; Chart.js (web/assets/js/charts.js).
import { api } from "../api.js";
import { serviceBudgetCard } from "../alerts.js";
import { COLOURS, loadChart } from "../charts.js";
import { append, field, h, replace, showError } from "../ui.js";

const isoDay = (date) => date.toISOString().slice(0, 10);
const usd = (value) => new Intl.NumberFormat("en", { style: "currency", currency: "USD", maximumFractionDigits: 4 }).format(value);
// a fresh object per chart: Chart.js keeps (and fills in) the options it is given
const options = (more = {}) => ({ animation: false, responsive: true, maintainAspectRatio: false, ...more });

function table(caption, columns, rows) {
  return h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": caption }, h("table", {},
    h("thead", {}, h("tr", {}, columns.map(([title]) => h("th", { scope: "col" }, title)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell, numeric]) =>
      h(numeric ? "td.num" : "td", {}, String(cell(row)))))))));
}

export async function analytics(body) {
  const days = h("select", { name: "period" }, [7, 30, 90].map((n) => h("option", { value: String(n), selected: n === 30 }, `Last ${n} days`)));
  const errors = h("div");
  const totals = h("p.muted", { "aria-live": "polite" });
  const money = h("canvas", { role: "img", "aria-label": "Revenue, provider cost and margin per day", id: "analytics-money" });
  const usage = h("canvas", { role: "img", "aria-label": "Credits spent and active users per day", id: "analytics-usage" });
  const models = h("canvas", { role: "img", "aria-label": "Margin by model", id: "analytics-models" });
  const tables = h("div");
  append(body, h("div.card", {}, field("Period", days), errors), totals,
    h("div.card", {}, h("h2", {}, "Revenue, provider cost and margin"), h("div.chart", {}, money)),
    h("div.card", {}, h("h2", {}, "Credits and active users"), h("div.chart", {}, usage)),
    h("div.card", {}, h("h2", {}, "Margin by model"), h("div.chart", {}, models)),
    tables, await serviceBudgetCard());
  const charts = [];

  async function load() {
    showError(errors, null);
    const to = new Date();
    const from = new Date(to.getTime() - (Number(days.value) - 1) * 86400000);
    try {
      const [Chart, data] = await Promise.all([loadChart(), api(`/api/v1/admin/analytics?from=${isoDay(from)}&to=${isoDay(to)}`)]);
      charts.splice(0).forEach((chart) => chart.destroy());
      const t = data.totals;
      replace(totals, `Revenue ${usd(t.revenue_usd)}, provider cost ${usd(t.provider_cost_usd)}, margin ${usd(t.margin_usd)}, `
        + `${t.credits_spent} credits spent, ${data.from} to ${data.to} (UTC).`
        + (data.other_currency_payments ? ` ${data.other_currency_payments} payments in other currencies left out.` : ""));
      const labels = data.days.map((d) => d.date);
      charts.push(new Chart(money, { type: "bar", options: options(), data: { labels, datasets: [
        { label: "Revenue (USD)", data: data.days.map((d) => d.revenue_usd), backgroundColor: COLOURS[2] },
        { label: "Provider cost (USD)", data: data.days.map((d) => d.provider_cost_usd), backgroundColor: COLOURS[1] },
        { label: "Margin (USD)", type: "line", data: data.days.map((d) => d.margin_usd), borderColor: COLOURS[0], backgroundColor: COLOURS[0] }] } }));
      charts.push(new Chart(usage, { type: "line", options: options({ scales: { users: { position: "right", beginAtZero: true } } }),
        data: { labels, datasets: [
          { label: "Credits spent", data: data.days.map((d) => d.credits_spent), borderColor: COLOURS[4], backgroundColor: COLOURS[4] },
          { label: "Active users", yAxisID: "users", data: data.days.map((d) => d.active_users), borderColor: COLOURS[3], backgroundColor: COLOURS[3] }] } }));
      charts.push(new Chart(models, { type: "bar", options: options({ indexAxis: "y" }), data: {
        labels: data.by_model.map((m) => m.model), datasets: [
          { label: "Provider cost (USD)", data: data.by_model.map((m) => m.provider_cost_usd), backgroundColor: COLOURS[1] },
          { label: "Margin (USD)", data: data.by_model.map((m) => m.margin_usd), backgroundColor: COLOURS[0] }] } }));
      const group = [["Requests", (r) => r.requests, true], ["Credits", (r) => r.credits_spent, true],
        ["Tokens in", (r) => r.tokens_in, true], ["Tokens out", (r) => r.tokens_out, true],
        ["Provider cost", (r) => usd(r.provider_cost_usd), true], ["Revenue", (r) => usd(r.revenue_usd), true],
        ["Margin", (r) => usd(r.margin_usd), true]];
      replace(tables,
        h("h2", {}, "By plan"), table("By plan", [["Plan", (r) => r.plan], ...group], data.by_plan),
        h("h2", {}, "By model"), table("By model", [["Model", (r) => r.model], ...group], data.by_model),
        h("h2", {}, "Top users by provider cost"), table("Top users by provider cost", [
          ["User", (r) => r.email || r.user_id], ["Requests", (r) => r.requests, true],
          ["Credits", (r) => r.credits_spent, true], ["Provider cost", (r) => usd(r.provider_cost_usd), true]],
        data.top_users_by_cost));
    } catch (error) { showError(errors, error); }
  }
  days.addEventListener("change", load);
  await load();
}
