// The messages of a chat thread: one bubble per message of the active path, with its actions
// (copy, regenerate, edit and re-send, "‹ 2/3 ›" between alternatives). The page passes the
// handlers; this module only draws.
import { t } from "../i18n.js";
import { renderMarkdown } from "../markdown.js";
import { append, field, h, replace, toast } from "../ui.js";
import { messageImages } from "./chat-images.js";

export async function copyToClipboard(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast(t("copied"));
  } catch {
    toast(t("copyFailed"), { bad: true });
  }
}

/** The "‹ 2/3 ›" control of a message with alternatives (null when it has none). */
function pager(message, onSwitch) {
  const siblings = message.siblings || [];
  if (siblings.length < 2) return null;
  const at = siblings.indexOf(message.id);
  const label = t("chat.version", { n: at + 1, total: siblings.length });
  const go = (step) => onSwitch(siblings[at + step]);
  return h("span.pager-group", { role: "group", "aria-label": label },
    h("button", { type: "button", "aria-label": t("chat.previousVersion"), disabled: at <= 0, onclick: () => go(-1) }, "‹"),
    h("span.pager", { "aria-hidden": "true" }, `${at + 1}/${siblings.length}`),
    h("button", { type: "button", "aria-label": t("chat.nextVersion"), disabled: at >= siblings.length - 1,
                  onclick: () => go(1) }, "›"));
}

/**
 * A bubble for `message` ({id?, role, content, status?, siblings?, parent_id?}); `actions`:
 * {onSwitch(id), onRegenerate(message), onEdit(message, text)} (absent while streaming).
 */
export function bubble(message, actions = null) {
  const { role, content } = message;
  const body = h("div.body");
  append(body, role === "assistant" ? renderMarkdown(content) : h("p.plain", {}, content));
  body.setAttribute("translate", "no");  // the person's and the model's words, not the app's
  if (message.status === "stopped") append(body, h("p.muted.small", {}, t("chat.stopped")));
  const who = h("div.who", {}, role === "user" ? t("chat.you") : t("chat.muse"));
  const el = h(`div.msg.${role}`, { dataset: { id: message.id || "" } }, who, messageImages(message.images), body);
  const bar = h("div.msg-actions");
  if (actions && message.id) {
    if (role === "assistant") {
      append(bar,
        h("button", { type: "button", onclick: () => copyToClipboard(message.content) }, t("chat.copy")),
        h("button", { type: "button", onclick: () => actions.onRegenerate(message) }, t("chat.regenerate")));
    } else if (role === "user") {
      append(bar, h("button", { type: "button", onclick: () => editForm(el, body, bar, message, actions) }, t("chat.edit")));
    }
    append(bar, pager(message, actions.onSwitch));
  }
  append(el, bar);
  return { el, body, bar };
}

function editForm(el, body, bar, message, actions) {
  const text = h("textarea", { name: "edit", rows: 3, required: true }, message.content);
  text.value = message.content;
  const cancel = h("button", { type: "button" }, t("chat.cancel"));
  const form = h("form.edit-form", {}, field(t("chat.editLabel"), text),
    h("div.actions", {}, h("button.primary", { type: "submit" }, t("chat.sendEdit")), cancel));
  const close = () => { form.remove(); body.hidden = false; bar.hidden = false; bar.querySelector("button")?.focus(); };
  cancel.addEventListener("click", close);
  form.addEventListener("keydown", (event) => { if (event.key === "Escape") { event.stopPropagation(); close(); } });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = text.value.trim();
    if (value) actions.onEdit(message, value);
  });
  body.hidden = true;
  bar.hidden = true;
  append(el, form);
  text.focus();
}

/** Draw the active path of `convo` into `container`. */
export function drawThread(container, messages, actions) {
  replace(container);
  for (const m of messages) if (m.role !== "system") append(container, bubble(m, actions).el);
}
