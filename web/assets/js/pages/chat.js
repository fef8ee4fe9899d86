// Chat: conversations sidebar (newest activity first, rename, delete) and a streamed thread.
import { ApiError, api, newIdempotencyKey, streamChat } from "../api.js";
import { renderMarkdown } from "../markdown.js";
import { hasRole, loadPlans, refreshCredits, state } from "../state.js";
import { append, errorBox, field, h, humane, replace, showError, toast } from "../ui.js";

export async function chatPage(main, [conversationId]) {
  let current = conversationId || null;
  let controller = null;
  const plans = await loadPlans();
  const list = h("ul", { "aria-label": "Conversations" });
  const sidebar = h("nav.sidebar", { "aria-label": "Conversations" },
    h("a.button.primary", { href: "/chat", "data-link": true }, "New chat"), list);
  const messages = h("div.messages", { role: "log", "aria-live": "polite", "aria-label": "Messages" });
  const errors = h("div");
  const input = h("textarea", { name: "message", rows: 3, required: true, placeholder: "Ask anything…" });
  const model = h("select", { name: "model" }, plans.models.map((m) => {
    const locked = !hasRole(m.min_role);
    const premium = m.min_role !== "USER";
    return h("option", { value: m.name, disabled: locked },
      `${m.name}${premium ? " ★ premium" : ""} · ${m.price} credit${m.price === 1 ? "" : "s"}${locked ? ` (needs ${m.min_role})` : ""}`);
  }));
  const cost = h("p.hint", { id: "chat-cost" });
  const send = h("button.primary", { type: "submit" }, "Send");
  const stop = h("button", { type: "button", hidden: true }, "Stop");
  const form = h("form.composer", {},
    field("Message", input),
    h("div.row", {}, field("Model", model), h("div.actions", {}, send, stop)), cost, errors);

  function updateCost() {
    const offer = plans.models.find((m) => m.name === model.value);
    const left = state.user?.credits?.spendable;
    cost.textContent = `Each answer costs ${offer?.price ?? 1} credit${offer?.price === 1 ? "" : "s"} (repeated questions are free)` +
      (left !== undefined && left !== null ? ` · ${left} credits left` : "");
  }
  model.addEventListener("change", updateCost);

  append(main, h("h1.visually-hidden", {}, "Chat"),
    h("div.chat", {}, sidebar, h("section.thread", { "aria-label": "Conversation" }, messages, form)));
  main.querySelector("h1").className = "muted small";

  async function loadSidebar() {
    const page = await api("/api/v1/conversations?limit=50");
    replace(list, page.items.length ? page.items.map(item) : h("li.muted.small", {}, "No conversations yet."));
  }

  function item(c) {
    const link = h("a", { href: `/chat/${c.id}`, "data-link": true, title: c.title,
                          "aria-current": c.id === current ? "page" : null }, c.title);
    const li = h("li", { dataset: { id: c.id } }, link);
    const rename = h("button", { type: "button", "aria-label": `Rename “${c.title}”` }, "Rename");
    const remove = h("button.danger", { type: "button", "aria-label": `Delete “${c.title}”` }, "Delete");
    rename.addEventListener("click", () => {
      const title = h("input", { value: c.title, "aria-label": "New title", maxlength: "200", required: true });
      const renameForm = h("form", {}, title, h("button", { type: "submit" }, "Save"));
      renameForm.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          await api(`/api/v1/conversations/${c.id}`, { method: "PATCH", body: { title: title.value } });
          await loadSidebar();
        } catch (error) { toast(humane(error), { bad: true }); }
      });
      replace(li, renameForm);
      title.focus();
      title.select();
    });
    remove.addEventListener("click", async () => {
      if (!confirm(`Delete “${c.title}”?`)) return;
      try {
        await api(`/api/v1/conversations/${c.id}`, { method: "DELETE" });
        toast("Conversation deleted.");
        if (c.id === current) { history.pushState(null, "", "/chat"); current = null; replace(messages); }
        await loadSidebar();
      } catch (error) { toast(humane(error), { bad: true }); }
    });
    append(li, rename, remove);
    return li;
  }

  function bubble(role, content) {
    const body = h("div.body");
    append(body, role === "assistant" ? renderMarkdown(content) : document.createTextNode(content));
    const el = h(`div.msg.${role}`, {}, h("div.who", {}, role === "user" ? "You" : "Muse"), body);
    append(messages, el);
    return { el, body };
  }

  async function loadThread() {
    replace(messages);
    if (!current) {
      append(messages, h("p.muted", {}, "Start a new conversation below."));
      return;
    }
    const convo = await api(`/api/v1/conversations/${current}`);
    main.querySelector("h1").textContent = convo.title;
    document.title = `${convo.title} · Muse`;
    for (const m of convo.messages) if (m.role !== "system") bubble(m.role, m.content);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    showError(errors, null);
    if (!current) replace(messages);
    bubble("user", text);
    input.value = "";
    const answer = bubble("assistant", "");
    answer.el.setAttribute("aria-busy", "true");
    let content = "";
    let frame = 0;
    const paint = () => {  // a direct call also cancels a queued frame, which would wipe the notes below
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      replace(answer.body, renderMarkdown(content));
    };
    controller = new AbortController();
    send.disabled = true;
    stop.hidden = false;
    const key = newIdempotencyKey();
    try {
      await streamChat({ messages: [{ role: "user", content: text }], conversation_id: current, model: model.value },
        { signal: controller.signal, idempotencyKey: key, onEvent(name, data) {
          if (name === "meta" && data.conversation_id && data.conversation_id !== current) {
            current = data.conversation_id;
            history.replaceState(null, "", `/chat/${current}`);
            loadSidebar().catch(() => {});
          } else if (name === "delta") {
            content += data.content || "";
            if (!frame) frame = requestAnimationFrame(paint);
          } else if (name === "done") {
            answer.el.dataset.credits = data.credits_charged;
          }
        } });
      paint();
    } catch (error) {
      paint();
      if (error?.name === "AbortError") {
        append(answer.body, h("p.muted.small", {}, "Stopped."));
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
      await Promise.all([loadSidebar(), refreshCredits().then(updateCost)]).catch(() => {});
    }
  });
  stop.addEventListener("click", () => controller?.abort());
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
  });

  updateCost();
  await Promise.all([loadSidebar(), loadThread()]);
  return () => controller?.abort();
}

export { errorBox };
