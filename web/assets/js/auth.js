// Sign-in methods, chosen by GET /api/v1/client-config (`auth.provider`). Each method is a
// small object { id, render(container, onToken) } so Clerk or Muse's own accounts plug in.
import { api, session } from "./api.js";
import { field, h, showError } from "./ui.js";

const ROLES = ["USER", "SUBSCRIBER", "ADMIN"];

const dev = {
  id: "dev",
  title: "Development sign-in",
  render(container, onToken) {
    const user = h("input", { name: "user", required: true, autocomplete: "username", value: "user_dev",
                              pattern: "[A-Za-z0-9_.:@\\-]{1,64}" });
    const role = h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r }, r)));
    const errors = h("div");
    const submit = h("button.primary", { type: "submit" }, "Sign in");
    const form = h("form", { "aria-describedby": "dev-note" },
      h("p.hint", { id: "dev-note" }, "Development only: any user ID signs in, with the role you pick."),
      field("User ID", user, "Letters, digits and _ . : @ - (up to 64)."),
      field("Role", role),
      h("div.actions", {}, submit), errors);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        const { token } = await api("/api/v1/dev/token", { method: "POST",
          body: { user: user.value.trim(), role: role.value } });
        onToken(token);
      } catch (error) {
        showError(errors, error);
      } finally {
        submit.disabled = false;
      }
    });
    container.append(form);
  },
};

/** Muse's own accounts (contract §17), when the server has AUTH_PROVIDER=local. */
const local = {
  id: "local",
  title: "Sign in",
  render(container, onToken) {
    const email = h("input", { type: "email", name: "email", required: true, autocomplete: "email" });
    const password = h("input", { type: "password", name: "password", required: true, minlength: "10",
                                  autocomplete: "current-password" });
    const errors = h("div");
    const signIn = h("button.primary", { type: "submit", value: "login" }, "Sign in");
    const register = h("button", { type: "submit", value: "register" }, "Create account");
    const form = h("form", {}, field("Email", email), field("Password", password, "At least 10 characters."),
      h("div.actions", {}, signIn, register), errors);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const action = event.submitter?.value === "register" ? "register" : "login";
      try {
        const answer = await api(`/api/v1/auth/${action}`, { method: "POST",
          body: { email: email.value, password: password.value } });
        onToken(answer.access_token);
      } catch (error) { showError(errors, error); }
    });
    container.append(form);
  },
};

/** Clerk: needs Clerk's browser bundle served by Muse (not shipped yet); explains instead. */
const clerk = {
  id: "clerk",
  title: "Sign in with Clerk",
  render(container, onToken) {
    container.append(h("p", {}, "This Muse signs people in with Clerk. Sign in on your Clerk-hosted page, ",
      "then paste a session token below (the built-in Clerk widget is not bundled yet)."));
    const token = h("input", { name: "token", required: true, autocomplete: "off" });
    const form = h("form", {}, field("Session token", token), h("div.actions", {}, h("button.primary", { type: "submit" }, "Continue")));
    form.addEventListener("submit", (event) => { event.preventDefault(); onToken(token.value.trim()); });
    container.append(form);
  },
};

export const METHODS = { dev, local, clerk };

export function signOut() {
  const token = session.token;
  session.token = null;
  if (token && METHODS.local && window.__museAuthProvider === "local") {
    fetch("/api/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
  }
}
