// Chat: the conversations sidebar (chat-sidebar.js) and a streamed thread (chat-messages.js) with
// regenerate, edit and re-send, switching between alternatives, stop and keyboard shortcuts.
import { ApiError, api, newIdempotencyKey, streamChat } from "../api.js";
import { t } from "../i18n.js";
import { renderMarkdown } from "../markdown.js";
import { hasRole, loadPlans, refreshCredits, state } from "../state.js";
import { append, errorBox, field, h, replace, showError } from "../ui.js";
import { bubble, copyToClipboard, drawThread } from "./chat-messages.js";
import { attachments } from "./chat-images.js";
import { chatSidebar } from "./chat-sidebar.js";

const SHORTCUTS = [["Enter", "chat.keySend"], ["Shift+Enter", "chat.keyNewline"], ["Escape", "chat.keyStop"],
  ["Shift+Escape", "chat.keyFocus"], ["Alt+C", "chat.keyCopy"], ["Alt+R", "chat.keyRegenerate"],
  ["Alt+N", "chat.keyNew"]];

export async function chatPage(main, [conversationId], _query, navigate) {
  let current = conversationId || null;
  let controller = null;
  let path = [];  // the active path as the API returned it
  const plans = await loadPlans();
  const { sidebar, load: loadSidebar } = chatSidebar({
    current: () => current,
    onDeleted(id) { if (id === current) { history.pushState(null, "", "/chat"); current = null; path = []; replace(messages); } },
  });
  const messages = h("div.messages", { role: "log", "aria-live": "polite", "aria-label": t("chat.messages") });
  const errors = h("div");
  const input = h("textarea", { name: "message", rows: 3, placeholder: t("chat.placeholder"),
                                "aria-keyshortcuts": "Shift+Escape" });
  const attached = attachments();
  const model = h("select", { name: "model" }, plans.models.map((m) => {
    const locked = !hasRole(m.min_role);
    return h("option", { value: m.name, disabled: locked, translate: "no" },
      `${m.name}${m.min_role !== "USER" ? ` ★ ${t("chat.premium")}` : ""} · ${t("credits.count", { count: m.price })}` +
      (locked ? ` ${t("chat.needsRole", { role: m.min_role })}` : ""));
  }));
  const cost = h("p.hint", { id: "chat-cost" });
  const send = h("button.primary", { type: "submit", "aria-keyshortcuts": "Enter" }, t("chat.send"));
  const stop = h("button", { type: "button", hidden: true, "aria-keyshortcuts": "Escape" }, t("chat.stop"));
  const keys = h("details.shortcuts.small", {}, h("summary", {}, t("chat.shortcuts")),
    h("dl", {}, SHORTCUTS.map(([key, label]) => [h("dt", {}, key.split("+").map((k, i) => [i ? "+" : "", h("kbd", {}, t(`key.${k}`))])), h("dd", {}, t(label))])));
  const form = h("form.composer", {},
    field(t("chat.message"), input), attached.el,
    h("div.row", {}, field(t("chat.model"), model), h("div.actions", {}, send, stop)), cost, errors);

  function updateCost() {
    const offer = plans.models.find((m) => m.name === model.value);
    const left = state.user?.credits?.spendable;
    cost.textContent = t("chat.cost", { credits: t("credits.count", { count: offer?.price ?? 1 }),
                                        perImage: plans.prices?.chat_image ?? 1 }) +
      (left !== undefined && left !== null ? ` · ${t("chat.left", { credits: t("credits.count", { count: left }) })}` : "");
  }
  model.addEventListener("change", updateCost);

  append(main, h("h1.visually-hidden", {}, t("chat.title")),
    h("div.chat", {}, sidebar, h("section.thread", { "aria-label": t("chat.conversation") }, messages, form, keys)));
  // The shortcuts list sits below the composer, not in it: opened inside the sticky composer it
  // covered the conversation (seen in the screenshots).
  main.querySelector("h1").className = "muted small";

  const actions = {
    onSwitch: (leafId) => act(async () => show(await api(`/api/v1/conversations/${current}/active`,
                                                            { method: "PUT", body: { leaf_id: leafId } }))),
    onRegenerate: (message) => run({
      path: `/api/v1/conversations/${current}/messages/${message.id}/regenerate`,
      payload: { model: model.value }, from: message.id }),
    onEdit: (message, text) => run({
      payload: { messages: [{ role: "user", content: text }], conversation_id: current, parent_id: message.parent_id ?? "",
                 model: model.value }, from: message.id, question: text }),
  };

  async function act(fn) {
    showError(errors, null);
    try { await fn(); } catch (error) { showError(errors, error); }
  }

  function show(convo) {
    path = convo.messages;
    const heading = main.querySelector("h1");
    heading.textContent = convo.title;
    heading.setAttribute("translate", "no");  // the conversation's own title
    document.title = `${convo.title} · Muse`;
    drawThread(messages, path, actions);
  }

  async function loadThread() {
    replace(messages);
    path = [];
    if (!current) {
      append(messages, h("p.muted", {}, t("chat.start")));
      return;
    }
    show(await api(`/api/v1/conversations/${current}`));
  }

  /** Stream an answer: a new question (`question`), an edited one, or a regeneration (`from`: the
   * message replaced from there on). */
  async function run({ path: endpoint = "/api/v1/chat", payload, from = null, question = null, images = null }) {
    if (controller) return;
    showError(errors, null);
    if (!current) replace(messages);
    if (from) {  // the replaced message and what followed it leave the screen
      const at = [...messages.children].findIndex((el) => el.dataset.id === from);
      if (at >= 0) [...messages.children].slice(at).forEach((el) => el.remove());
    }
    for (const el of messages.querySelectorAll(".msg-actions")) el.hidden = true;  // no actions mid-answer
    if (question !== null) append(messages, bubble({ role: "user", content: question, images }).el);
    const answer = bubble({ role: "assistant", content: "" });
    append(messages, answer.el);
    answer.el.setAttribute("aria-busy", "true");
    let content = "";
    let frame = 0;
    let finished = false;
    const paint = () => {  // a direct call also cancels a queued frame, which would wipe the notes below
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      replace(answer.body, renderMarkdown(content));
    };
    controller = new AbortController();
    send.disabled = true;
    stop.hidden = false;
    try {
      await streamChat(payload, { path: endpoint, signal: controller.signal, idempotencyKey: newIdempotencyKey(),
        onEvent(name, data) {
          if (name === "meta" && data.conversation_id && data.conversation_id !== current) {
            current = data.conversation_id;
            history.replaceState(null, "", `/chat/${current}`);
            loadSidebar().catch(() => {});
          } else if (name === "delta") {
            content += data.content || "";
            if (!frame) frame = requestAnimationFrame(paint);
          } else if (name === "done") {
            answer.el.dataset.credits = data.credits_charged;
            finished = true;
          }
        } });
      paint();
    } catch (error) {
      paint();
      if (error?.name === "AbortError") {
        append(answer.body, h("p.muted.small", {}, t("chat.stopped")));
      } else {
        if (!content) answer.el.remove();
        showError(errors, error instanceof ApiError ? error : new ApiError({ detail: String(error) }));
      }
    } finally {
      answer.el.removeAttribute("aria-busy");
      controller = null;
      send.disabled = false;
      stop.hidden = true;
      input.focus();
      // A whole answer: the thread again from the API, with the ids its actions need.
      await Promise.all([finished && current ? loadThread() : null, loadSidebar(),
                         refreshCredits().then(updateCost)]).catch(() => {});
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (controller) return;
    if (!text && !attached.count) { input.focus(); return; }
    const sent = attached.count ? [...(text ? [{ type: "text", text }] : []), ...attached.parts()] : text;
    const images = attached.shown();
    input.value = "";
    attached.clear();
    const leaf = path.at(-1)?.id;
    run({ payload: { messages: [{ role: "user", content: sent }], conversation_id: current, model: model.value,
                     ...(leaf ? { parent_id: leaf } : {}) }, question: text, images });
  });
  stop.addEventListener("click", () => controller?.abort());
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
  });

  function onKey(event) {
    if (event.key === "Escape" && event.shiftKey) { event.preventDefault(); input.focus(); return; }
    if (event.key === "Escape" && controller) { event.preventDefault(); controller.abort(); return; }
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    const last = path.filter((m) => m.role === "assistant").at(-1);
    if (event.code === "KeyC" && last) { event.preventDefault(); copyToClipboard(last.content); }
    else if (event.code === "KeyR" && last && !controller) { event.preventDefault(); actions.onRegenerate(last); }
    else if (event.code === "KeyN") { event.preventDefault(); navigate("/chat"); }
  }
  document.addEventListener("keydown", onKey);

  updateCost();
  await Promise.all([loadSidebar(), loadThread()]);
  return () => { controller?.abort(); document.removeEventListener("keydown", onKey); };
}

export { errorBox };
