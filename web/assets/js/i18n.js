// The web app's languages: message catalogues (i18n/<lang>*.js, one module per part of the app)
// looked up by key, the language picked from the browser's (navigator.languages) unless the
// person chose one (kept in localStorage), and dates and numbers formatted with Intl in that
// language. Muse's own problem titles stay English: the app maps problem codes to its messages
// (`problem.<code>`). No page writes a sentence of its own: every text shown comes from here.
//
// `qps` is a pseudo-language for tests only (not offered in the picker): every message is the
// English one in ⟦ ⟧ brackets, so a text on screen without them was not looked up here.
import deAccount from "./i18n/de-account.js";
import deApp from "./i18n/de-app.js";
import deMedia from "./i18n/de-media.js";
import de from "./i18n/de.js";
import enAccount from "./i18n/en-account.js";
import enApp from "./i18n/en-app.js";
import enMedia from "./i18n/en-media.js";
import en from "./i18n/en.js";
import esAccount from "./i18n/es-account.js";
import esApp from "./i18n/es-app.js";
import esMedia from "./i18n/es-media.js";
import es from "./i18n/es.js";

const ENGLISH = { ...en, ...enApp, ...enMedia, ...enAccount };
export const CATALOGUES = {
  en: ENGLISH,
  de: { ...de, ...deApp, ...deMedia, ...deAccount },
  es: { ...es, ...esApp, ...esMedia, ...esAccount },
};
export const LANGUAGES = [["en", "English"], ["de", "Deutsch"], ["es", "Español"]];
const PSEUDO = "qps";
const KEY = "muse.lang";

function pick() {
  try {
    const chosen = localStorage.getItem(KEY);
    if (chosen && (CATALOGUES[chosen] || chosen === PSEUDO)) return chosen;
  } catch { /* storage off */ }
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (CATALOGUES[base]) return base;
  }
  return "en";
}

let lang = pick();
document.documentElement.lang = lang === PSEUDO ? "en" : lang;

export function language() { return lang; }
/** The Intl locale of the current language (the pseudo-language formats as English). */
const locale = () => (lang === PSEUDO ? "en" : lang);
const mark = (text) => (lang === PSEUDO ? `⟦${text}⟧` : text);

/** Switch to `next` (one of LANGUAGES) and remember the choice. */
export function setLanguage(next) {
  if (!CATALOGUES[next]) return;
  lang = next;
  try { localStorage.setItem(KEY, next); } catch { /* storage off */ }
  document.documentElement.lang = next;
}

/** True when the catalogue has `key` (in the current language or English). */
export function has(key) { return key in ENGLISH || key in (CATALOGUES[lang] || {}); }

/**
 * The message `key` in the current language (English when missing), with `{name}` filled from
 * `params`; a message that is an object picks its plural form by `params.count` (Intl.PluralRules).
 */
export function t(key, params = {}) {
  let message = (CATALOGUES[lang] || ENGLISH)[key] ?? ENGLISH[key];
  if (message === undefined) {
    console.warn(`i18n: no message ${key}`);
    return key;
  }
  if (typeof message === "object") {
    const form = new Intl.PluralRules(locale()).select(Number(params.count ?? 0));
    message = message[form] ?? message.other;
  }
  return mark(message.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in params)) return whole;
    const value = params[name];
    return typeof value === "number" ? fmtNumber(value) : String(value);
  }));
}

/** A value the server names (a status, a role, a kind): its message `prefix.value` when the
 * catalogue has one, else the value itself. */
export function tValue(prefix, value) {
  if (value === null || value === undefined || value === "") return "—";
  const key = `${prefix}.${String(value).toLowerCase()}`;
  return has(key) ? t(key) : String(value);
}

export function fmtNumber(value, options) {
  return new Intl.NumberFormat(locale(), options).format(value);
}

export function fmtDate(iso, options = { dateStyle: "medium", timeStyle: "short" }) {
  if (!iso) return "—";
  return mark(new Intl.DateTimeFormat(locale(), options).format(new Date(iso)));
}

/** "in 3 hours", "5 days ago" in the current language. */
export function fmtRelative(iso) {
  if (!iso) return "";
  const diff = (new Date(iso).getTime() - Date.now()) / 1000;
  const abs = Math.abs(diff);
  const [value, unit] = abs < 90 ? [diff, "second"] : abs < 5400 ? [diff / 60, "minute"]
    : abs < 172800 ? [diff / 3600, "hour"] : [diff / 86400, "day"];
  return mark(new Intl.RelativeTimeFormat(locale(), { numeric: "always", style: "short" }).format(Math.round(value), unit));
}
