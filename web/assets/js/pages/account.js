// Account (contract §20): delete the account for good, after a confirmation step.
import { api, session } from "../api.js";
import { forgetMe, state } from "../state.js";
import { t } from "../i18n.js";
import { append, field, h, replace, showError } from "../ui.js";

export async function myAccountPage(main) {
  const local = state.config?.auth?.provider === "local";
  const errors = h("div");
  const step = h("div");
  const start = h("button.danger", { type: "button" }, t("account.deleteStart"));
  const who = state.user?.email || state.user?.clerk_id;
  append(main, h("h1", {}, t("nav.account")),
    h("p", {}, who ? [t("account.signedInAs"), " ", h("strong", { translate: "no" }, who)] : t("account.signedIn")),
    h("section.card", { "aria-labelledby": "delete-heading" },
      h("h2", { id: "delete-heading" }, t("account.deleteTitle")),
      h("p", {}, t("account.deleteText")),
      step, errors));
  replace(step, start);

  start.addEventListener("click", () => {
    const confirmText = h("input", { name: "confirm", autocomplete: "off", required: true, spellcheck: "false" });
    const password = local ? h("input", { name: "password", type: "password", autocomplete: "current-password", required: true }) : null;
    const cancel = h("button", { type: "button" }, t("account.keep"));
    const form = h("form", {}, field(t("account.typeDelete"), confirmText),
      password ? field(t("account.yourPassword"), password) : null,
      h("div.actions", {}, h("button.danger", { type: "submit" }, t("account.deleteForGood")), cancel));
    cancel.addEventListener("click", () => { replace(step, start); showError(errors, null); start.focus(); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(errors, null);
      if (confirmText.value.trim() !== "DELETE") {
        showError(errors, { detail: t("account.typeDeleteError") });
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
