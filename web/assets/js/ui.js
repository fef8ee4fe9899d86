// Small DOM helpers. Text always goes in through textContent: no HTML strings anywhere.
import { ApiError } from "./api.js";
import { has, t } from "./i18n.js";

/** h("button.primary", {onclick, type: "submit"}, "Save") → an element. */
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split(".");
  const el = document.createElement(name || "div");
  if (classes.length) el.className = classes.join(" ");
  if (attrs === null || typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs)) {
    children.unshift(attrs);
    attrs = {};
  }
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

/** The nodes of `children` (nested arrays flattened; null, undefined and false left out; anything
 * else as text). The one way the app puts children in the DOM: the DOM's own `append` writes a
 * null child as the text "null" (tests/unit/test_web_dom_helper.py refuses a bare `.append(`). */
function nodes(children) {
  return children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false)
    .map((child) => (child instanceof Node ? child : document.createTextNode(String(child))));
}

/** append(el, child, ...): adds the children at the end of `el` (null/undefined/false skipped). */
export function append(el, ...children) {
  el.append(...nodes(children));
  return el;
}

/** prepend(el, child, ...): adds the children at the start of `el` (null/undefined/false skipped). */
export function prepend(el, ...children) {
  el.prepend(...nodes(children));
  return el;
}

let uid = 0;
/** A labelled form field: field("Prompt", h("textarea", {name: "prompt"}), "hint"). */
export function field(labelText, control, hint) {
  const id = control.id || (control.id = `f${++uid}`);
  const parts = [h("label", { for: id }, labelText), control];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(h("p.hint", { id: hintId }, hint));
  }
  return h("div.field", {}, parts);
}

/** swap(el, child, ...): puts the children in the place of `el` (null/undefined/false skipped). */
export function swap(el, ...children) {
  el.replaceWith(...nodes(children));
  return children;
}

export function replace(el, ...children) {
  el.replaceChildren(...nodes(children));
  return el;
}

/**
 * A sentence a person can act on, in their language, for an error: Muse's problem `code` mapped to
 * the catalogue's `problem.<code>` (Muse's own titles and details stay English: errorBox shows the
 * detail beneath, marked as English). An error the app made itself (no `status`) carries its own,
 * already translated, `detail`.
 */
export function humane(error) {
  if (!error) return "";
  if (!(error instanceof ApiError) && error.detail) return error.detail;
  const code = error.code || "internal_error";
  if (code === "rate_limited") return t("problem.rate_limited", { seconds: error.retryAfter ?? 1 });
  if (has(`problem.${code}`)) return t(`problem.${code}`);
  return /^http_4/.test(code) ? t("problem.bad_request") : t("problem.internal_error");
}

/** Muse's own (English) detail of a server error, when it says more than the code's message. */
function serverDetail(error) {
  if (!(error instanceof ApiError)) return null;
  if (error.code === "validation_error" && error.errors?.length) {
    return error.errors.map((e) => `${(e.loc || []).filter((p) => p !== "body").join(".")}: ${e.msg}`).join("; ");
  }
  return error.detail || null;
}

/** An error panel with the request ID for support. */
export function errorBox(error) {
  const box = h("div.error-box", { role: "alert" }, h("p", {}, humane(error)));
  const detail = serverDetail(error);
  if (detail) append(box, h("p.small", { lang: "en", translate: "no" }, detail));
  if (error.code === "insufficient_credits") append(box, h("p", {}, h("a", { href: "/credits", "data-link": true }, t("error.moreCredits"))));
  if (error.requestId) {
    append(box, h("p.rid.muted", {}, t("error.requestId"), " ", h("code", { translate: "no" }, error.requestId)));
  }
  return box;
}

/** Show `error` inside `slot` (an element kept for errors), or clear it with null. */
export function showError(slot, error) {
  replace(slot, error ? errorBox(error) : "");
}

export function toast(text, { bad = false } = {}) {
  const el = h(`div.toast${bad ? ".bad" : ""}`, { role: bad ? "alert" : "status" }, text);
  append(document.getElementById("toasts"), el);
  setTimeout(() => el.remove(), 5000);
}

export function copyButton(getText, label = t("chat.copy")) {
  const button = h("button", { type: "button" }, label);
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(getText());
      toast(t("copied"));
    } catch {
      toast(t("copyFailed"), { bad: true });
    }
  });
  return button;
}

export { fmtDate, fmtNumber, fmtRelative } from "./i18n.js";

/** A busy state for a button while `fn` runs. */
export async function busy(button, fn) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try { return await fn(); } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = label;
  }
}
