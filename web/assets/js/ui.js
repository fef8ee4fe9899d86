// Small DOM helpers. Text always goes in through textContent: no HTML strings anywhere.

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

const MESSAGES = {
  insufficient_credits: "You don't have enough credits for this.",
  maintenance: "Muse is down for maintenance. Please try again in a few minutes.",
  unauthorized: "Your session has ended. Please sign in again.",
  forbidden: "You don't have access to this.",
  not_found: "We couldn't find that. It may have been deleted.",
  payload_too_large: "That file is too large.",
  unsupported_media_type: "That file type isn't supported. Use a PNG, JPEG or WebP picture.",
  provider_unavailable: "The AI provider is unavailable right now. You were not charged; please try again.",
  provider_timeout: "The AI provider took too long. You were not charged; please try again.",
  network_error: "Muse could not be reached. Check your connection and try again.",
  internal_error: "Something went wrong on our side.",
};

/** A sentence a person can act on, for an ApiError (or any error). */
export function humane(error) {
  if (!error) return "";
  switch (error.code) {
    case "rate_limited":
      return `You're going a little fast. Please wait ${error.retryAfter ?? 1} s and try again.`;
    case "insufficient_credits":
      return `${MESSAGES.insufficient_credits} ${error.detail || ""} Buy a pack or wait for your daily allowance to reset.`.trim();
    case "feature_disabled":
      return error.detail || "This feature is switched off for now.";
    case "validation_error": {
      const items = (error.errors || []).map((e) => `${(e.loc || []).filter((p) => p !== "body").join(".")}: ${e.msg}`);
      return `Please check the form. ${items.join("; ")}`.trim();
    }
    default:
      return MESSAGES[error.code] && !error.detail ? MESSAGES[error.code]
        : error.detail || MESSAGES[error.code] || error.title || error.message || "Something went wrong.";
  }
}

/** An error panel with the request ID for support. */
export function errorBox(error) {
  const box = h("div.error-box", { role: "alert" }, h("p", {}, humane(error)));
  if (error.code === "insufficient_credits") append(box, h("p", {}, h("a", { href: "/credits", "data-link": true }, "Get more credits")));
  if (error.requestId) {
    append(box, h("p.rid.muted", {}, "Request ID for support: ", h("code", {}, error.requestId)));
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

export function copyButton(getText, label = "Copy") {
  const button = h("button", { type: "button" }, label);
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(getText());
      toast("Copied to the clipboard.");
    } catch {
      toast("Couldn't copy: select the text and copy it yourself.", { bad: true });
    }
  });
  return button;
}

export function fmtDate(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** "in 3 h", "in 12 min", "5 d ago". */
export function fmtRelative(iso) {
  if (!iso) return "";
  const diff = (new Date(iso).getTime() - Date.now()) / 1000;
  const abs = Math.abs(diff);
  const [value, unit] = abs < 90 ? [Math.round(abs), "s"] : abs < 5400 ? [Math.round(abs / 60), "min"]
    : abs < 172800 ? [Math.round(abs / 3600), "h"] : [Math.round(abs / 86400), "d"];
  return diff >= 0 ? `in ${value} ${unit}` : `${value} ${unit} ago`;
}

export function plural(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }

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
