// Account (contract §20): delete the account for good, after a confirmation step.
import { api, session } from "../api.js";
import { forgetMe, state } from "../state.js";
import { append, field, h, replace, showError } from "../ui.js";

export async function myAccountPage(main) {
  const local = state.config?.auth?.provider === "local";
  const errors = h("div");
  const step = h("div");
  const start = h("button.danger", { type: "button" }, "Delete my account…");
  append(main, h("h1", {}, "Account"),
    h("p", {}, `Signed in as ${state.user?.email || state.user?.clerk_id || "you"}.`),
    h("section.card", { "aria-labelledby": "delete-heading" },
      h("h2", { id: "delete-heading" }, "Delete account"),
      h("p", {}, "Deleting your account signs you out everywhere, revokes your API keys and deletes your "
        + "conversations, images, videos and share links. Your purchases and credit history are kept for "
        + "accounting, without your name or email. This cannot be undone."),
      step, errors));
  replace(step, start);

  start.addEventListener("click", () => {
    const confirmText = h("input", { name: "confirm", autocomplete: "off", required: true, spellcheck: "false" });
    const password = local ? h("input", { name: "password", type: "password", autocomplete: "current-password", required: true }) : null;
    const cancel = h("button", { type: "button" }, "Keep my account");
    const form = h("form", {}, field("Type DELETE to confirm", confirmText),
      password ? field("Your password", password) : null,
      h("div.actions", {}, h("button.danger", { type: "submit" }, "Delete my account for good"), cancel));
    cancel.addEventListener("click", () => { replace(step, start); showError(errors, null); start.focus(); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(errors, null);
      if (confirmText.value.trim() !== "DELETE") {
        showError(errors, { detail: "Type DELETE, in capitals, to confirm." });
        return;
      }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await api("/api/v1/me", { method: "DELETE", body: password ? { password: password.value } : undefined });
      } catch (error) {
        showError(errors, error);
        button.disabled = false;
        return;
      }
      forgetMe();
      session.token = null;  // the sessions are already ended: nothing to sign out of
      state.user = null;
      location.assign("/sign-in");
    });
    replace(step, form);
    confirmText.focus();
  });
}
