// Usage (contract §19): credits per UTC day and by kind as charts (Chart.js, vendored from npm,
// served by Muse), a table per day, and the CSV download of the same rows.
import { api } from "../api.js";
import { t, tValue } from "../i18n.js";
import { append, field, fmtDate, fmtNumber, h, replace, showError } from "../ui.js";

let chartLibrary = null;
/** Chart.js's UMD bundle, loaded once from Muse itself (`script-src 'self'`). */
function loadChart() {
  chartLibrary ??= new Promise((resolve, reject) => {
    const script = h("script", { src: "/assets/vendor/chartjs/chart.js" });
    script.addEventListener("load", () => resolve(window.Chart));
    script.addEventListener("error", () => { chartLibrary = null; reject(new Error("chart library")); });
    append(document.head, script);
  });
  return chartLibrary;
}

const COLOURS = ["#5b47e0", "#e0476b", "#2a9d8f", "#e9a23b", "#3b82f6", "#8d99ae"];
const isoDay = (date) => date.toISOString().slice(0, 10);

export async function usagePage(main) {
  const days = h("select", { name: "period" }, [7, 30, 90].map((n) => h("option", { value: String(n), selected: n === 30 }, t("usage.lastDays", { count: n }))));
  const errors = h("div");
  const totals = h("p.muted", { "aria-live": "polite" });
  const dayCanvas = h("canvas", { role: "img", "aria-label": t("usage.perDayChart"), id: "usage-days" });
  const kindCanvas = h("canvas", { role: "img", "aria-label": t("usage.byKind"), id: "usage-kinds" });
  const table = h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": t("usage.perDay") });
  const download = h("button", { type: "button" }, t("usage.csv"));
  append(main, h("h1", {}, t("nav.usage")),
    h("div.card", {}, field(t("usage.period"), days), h("div.actions", {}, download), errors),
    totals,
    h("div.card", {}, h("h2", {}, t("usage.perDayChart")), h("div.chart", {}, dayCanvas)),
    h("div.card", {}, h("h2", {}, t("usage.byKind")), h("div.chart", {}, kindCanvas)),
    h("h2", {}, t("usage.perDay")), table);
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
      const sums = byDay.totals;
      const day = (iso) => fmtDate(`${iso}T00:00:00Z`, { dateStyle: "medium", timeZone: "UTC" });
      replace(totals, t("usage.totals", { credits: sums.credits, refunded: sums.refunded_credits, requests: sums.requests,
        images: sums.images, seconds: sums.video_seconds, from: day(byDay.from), to: day(byDay.to) }));
      charts.push(new Chart(dayCanvas, { type: "bar", options: { animation: false, responsive: true, maintainAspectRatio: false },
        data: { labels: byDay.rows.map((r) => day(r.key)),
                datasets: [{ label: t("nav.credits"), data: byDay.rows.map((r) => r.credits), backgroundColor: COLOURS[0] }] } }));
      charts.push(new Chart(kindCanvas, { type: "doughnut", options: { animation: false, responsive: true, maintainAspectRatio: false },
        data: { labels: byKind.rows.map((r) => tValue("usageKind", r.key)),
                datasets: [{ label: t("nav.credits"), data: byKind.rows.map((r) => r.credits),
                             backgroundColor: byKind.rows.map((_, i) => COLOURS[i % COLOURS.length]) }] } }));
      replace(table, byDay.rows.length ? h("table", {},
        h("thead", {}, h("tr", {}, ["usage.day", "usage.requests", "nav.credits", "usage.refunded", "usage.images", "usage.videoSeconds"]
          .map((c) => h("th", { scope: "col" }, t(c))))),
        h("tbody", {}, byDay.rows.map((r) => h("tr", {}, h("td", {}, day(r.key)), [r.requests, r.credits, r.refunded_credits, r.images, r.video_seconds]
          .map((v) => h("td.num", {}, fmtNumber(v)))))))
        : h("p.muted", {}, t("usage.nothing")));
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
  await load();
}
