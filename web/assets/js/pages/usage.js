// Usage (contract §19): credits per UTC day and by kind as charts (Chart.js, vendored from npm,
// served by Muse), a table per day, and the CSV download of the same rows.
import { api } from "../api.js";
import { budgetCard } from "../alerts.js";
import { COLOURS, loadChart } from "../charts.js";
import { append, field, h, replace, showError } from "../ui.js";

const isoDay = (date) => date.toISOString().slice(0, 10);

export async function usagePage(main) {
  const days = h("select", { name: "period" }, [7, 30, 90].map((n) => h("option", { value: String(n), selected: n === 30 }, `Last ${n} days`)));
  const errors = h("div");
  const totals = h("p.muted", { "aria-live": "polite" });
  const dayCanvas = h("canvas", { role: "img", "aria-label": "Credits per day", id: "usage-days" });
  const kindCanvas = h("canvas", { role: "img", "aria-label": "Credits by kind", id: "usage-kinds" });
  const table = h("div.table-wrap");
  const download = h("button", { type: "button" }, "Download CSV");
  append(main, h("h1", {}, "Usage"),
    h("div.card", {}, field("Period", days), h("div.actions", {}, download), errors),
    totals,
    h("div.card", {}, h("h2", {}, "Credits per day"), h("div.chart", {}, dayCanvas)),
    h("div.card", {}, h("h2", {}, "Credits by kind"), h("div.chart", {}, kindCanvas)),
    h("h2", {}, "Per day"), table);
  const charts = [];
  const period = () => {
    const to = new Date();
    const from = new Date(to.getTime() - (Number(days.value) - 1) * 86400000);
    return `from=${isoDay(from)}&to=${isoDay(to)}`;
  };

  async function load() {
    showError(errors, null);
    try {
      const [Chart, byDay, byKind] = await Promise.all([loadChart(), api(`/api/v1/usage?${period()}&group_by=day`),
        api(`/api/v1/usage?${period()}&group_by=kind`)]);
      charts.splice(0).forEach((chart) => chart.destroy());
      const t = byDay.totals;
      replace(totals, `${t.credits} credits spent (${t.refunded_credits} refunded) in ${t.requests} requests, `
        + `${t.images} images, ${t.video_seconds} video seconds, ${byDay.from} to ${byDay.to} (UTC).`);
      charts.push(new Chart(dayCanvas, { type: "bar", options: { animation: false, responsive: true, maintainAspectRatio: false },
        data: { labels: byDay.rows.map((r) => r.key),
                datasets: [{ label: "Credits", data: byDay.rows.map((r) => r.credits), backgroundColor: COLOURS[0] }] } }));
      charts.push(new Chart(kindCanvas, { type: "doughnut", options: { animation: false, responsive: true, maintainAspectRatio: false },
        data: { labels: byKind.rows.map((r) => r.key),
                datasets: [{ label: "Credits", data: byKind.rows.map((r) => r.credits),
                             backgroundColor: byKind.rows.map((_, i) => COLOURS[i % COLOURS.length]) }] } }));
      replace(table, byDay.rows.length ? h("table", {},
        h("thead", {}, h("tr", {}, ["Day", "Requests", "Credits", "Refunded", "Images", "Video seconds"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, byDay.rows.map((r) => h("tr", {}, h("td", {}, r.key), [r.requests, r.credits, r.refunded_credits, r.images, r.video_seconds]
          .map((v) => h("td.num", {}, String(v)))))))
        : h("p.muted", {}, "Nothing used in this period."));
    } catch (error) { showError(errors, error); }
  }

  download.addEventListener("click", async () => {
    try {
      const text = await api(`/api/v1/usage?${period()}&group_by=day`, { accept: "text/csv" });
      const link = h("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })),
                            download: `muse-usage-${days.value}-days.csv` });
      append(document.body, link);
      link.click();
      link.remove();
    } catch (error) { showError(errors, error); }
  });
  days.addEventListener("change", load);
  append(main, await budgetCard());
  await load();
}
