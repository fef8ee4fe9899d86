// Chart.js (npm `chart.js`, vendored with its integrity by web/vendor.py, served by Muse): its UMD
// bundle loaded once, on the pages that draw charts (`script-src 'self'`).
import { append, h } from "./ui.js";

let chartLibrary = null;

/** window.Chart, loading the bundle the first time. */
export function loadChart() {
  chartLibrary ??= new Promise((resolve, reject) => {
    const script = h("script", { src: "/assets/vendor/chartjs/chart.js" });
    script.addEventListener("load", () => resolve(window.Chart));
    script.addEventListener("error", () => { chartLibrary = null; reject(new Error("chart library")); });
    append(document.head, script);
  });
  return chartLibrary;
}

export const COLOURS = ["#5b47e0", "#e0476b", "#2a9d8f", "#e9a23b", "#3b82f6", "#8d99ae"];
