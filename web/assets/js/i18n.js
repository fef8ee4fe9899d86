// The web app's languages: message catalogues (i18n/<lang>.js) looked up by key, the language
// picked from the browser's (navigator.languages) unless the person chose one (kept in
// localStorage), and dates and numbers formatted with Intl in that language. Muse's own problem
// titles stay English: the app maps problem codes to its messages (`problem.<code>`).
import de from "./i18n/de.js";
import en from "./i18n/en.js";
import es from "./i18n/es.js";

export const CATALOGUES = { en, de, es };
export const LANGUAGES = [["en", "English"], ["de", "Deutsch"], ["es", "Español"]];
const KEY = "muse.lang";

function pick() {
  try {
    const chosen = localStorage.getItem(KEY);
    if (chosen && CATALOGUES[chosen]) return chosen;
  } catch { /* storage off */ }
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (CATALOGUES[base]) return base;
  }
  return "en";
}

let lang = pick();
document.documentElement.lang = lang;

export function language() { return lang; }

/** Switch to `next` (one of LANGUAGES) and remember the choice. */
export function setLanguage(next) {
  if (!CATALOGUES[next]) return;
  lang = next;
  try { localStorage.setItem(KEY, next); } catch { /* storage off */ }
  document.documentElement.lang = next;
}

/** True when the catalogue has `key` (in the current language or English). */
export function has(key) { return key in CATALOGUES[lang] || key in en; }

/**
 * The message `key` in the current language (English when missing), with `{name}` filled from
 * `params`; a message that is an object picks its plural form by `params.count` (Intl.PluralRules).
 */
export function t(key, params = {}) {
  let message = CATALOGUES[lang][key] ?? en[key];
  if (message === undefined) {
    console.warn(`i18n: no message ${key}`);
    return key;
  }
  if (typeof message === "object") {
    const form = new Intl.PluralRules(lang).select(Number(params.count ?? 0));
    message = message[form] ?? message.other;
  }
  return message.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in params)) return whole;
    const value = params[name];
    return typeof value === "number" ? fmtNumber(value) : String(value);
  });
}

export function fmtNumber(value, options) {
  return new Intl.NumberFormat(lang, options).format(value);
}

export function fmtDate(iso, options = { dateStyle: "medium", timeStyle: "short" }) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(lang, options).format(new Date(iso));
}

/** "in 3 hours", "5 days ago" in the current language. */
export function fmtRelative(iso) {
  if (!iso) return "";
  const diff = (new Date(iso).getTime() - Date.now()) / 1000;
  const abs = Math.abs(diff);
  const [value, unit] = abs < 90 ? [diff, "second"] : abs < 5400 ? [diff / 60, "minute"]
    : abs < 172800 ? [diff / 3600, "hour"] : [diff / 86400, "day"];
  return new Intl.RelativeTimeFormat(lang, { numeric: "always", style: "short" }).format(Math.round(value), unit);
}
