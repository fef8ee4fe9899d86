// Sign-in methods, chosen by GET /api/v1/client-config (`auth.provider`). Each method is a
// small object { id, render(container, onToken) } so Clerk or Muse's own accounts plug in.
import { api, ApiError, session } from "./api.js";
import { clerkSignOut, mountSignIn } from "./clerk.js";
import { t, tValue } from "./i18n.js";
import { append, busy, errorBox, field, h, replace, showError, toast } from "./ui.js";

const ROLES = ["USER", "SUBSCRIBER", "ADMIN"];

const dev = {
  id: "dev",
  title: "auth.devTitle",
  render(container, onToken) {
    const user = h("input", { name: "user", required: true, autocomplete: "username", value: "user_dev",
                              pattern: "[A-Za-z0-9_.:@\\-]{1,64}" });
    const role = h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r }, tValue("role", r))));
    const errors = h("div");
    const submit = h("button.primary", { type: "submit" }, t("auth.signIn"));
    const form = h("form", { "aria-describedby": "dev-note" },
      h("p.hint", { id: "dev-note" }, t("auth.devNote")),
      field(t("auth.userId"), user, t("auth.userIdHint")),
      field(t("auth.role"), role),
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
    append(container, form);
  },
};

/** Muse's own accounts (contract §17), when the server has AUTH_PROVIDER=local. */
const PASSWORD_RULES = () => t("auth.passwordRules");

function devOutboxNote() {  // development only: mail is kept in the outbox instead of being sent
  if (window.__museAppEnv !== "development") return null;
  return h("p.hint", {}, t("auth.devMail"), " ",
    h("a", { href: "/api/v1/dev/outbox", target: "_blank", rel: "noopener" }, t("auth.devOutbox")));
}

/** The 422 password rule (or any other field error) as one plain sentence. */
function accountError(error) {
  // A 401 of an account form is a wrong email or password (there is no session yet to end)
  if (error?.code === "unauthorized") return new ApiError({ ...error, code: "login_failed" });
  const fieldErrors = error?.code === "validation_error" ? (error.errors || []) : [];
  const password = fieldErrors.find((e) => (e.loc || []).includes("password"));
  if (password) return new ApiError({ ...error, code: "password_rules", detail: password.msg });
  const email = fieldErrors.find((e) => (e.loc || []).includes("email"));
  if (email) return new ApiError({ ...error, code: "email_invalid", detail: "" });
  return error;
}

/** A form that POSTs to the accounts API; `send(values)` returns the answer, `done(answer)` follows. */
function accountForm(fields, label, send, done) {
  const errors = h("div", { "aria-live": "polite" });
  const submit = h("button.primary", { type: "submit" }, label);
  const form = h("form", {}, fields, h("div.actions", {}, submit), errors);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    await busy(submit, async () => {
      try { done(await send()); } catch (error) { showError(errors, accountError(error)); }
    });
  });
  return form;
}

const passwordInput = (autocomplete) => h("input", { type: "password", name: "password", required: true,
  autocomplete, minlength: autocomplete === "new-password" ? "10" : null, maxlength: "1024" });
const emailInput = () => h("input", { type: "email", name: "email", required: true, autocomplete: "email",
  maxlength: "254" });
const signedIn = (onToken) => (answer) => onToken(answer.access_token, answer.expires_in);

const local = {
  id: "local",
  title: "auth.signIn",
  render(container, onToken) {
    const email = emailInput();
    const password = passwordInput("current-password");
    append(container, 
      accountForm([field(t("auth.email"), email), field(t("auth.password"), password)], t("auth.signIn"),
        () => api("/api/v1/auth/login", { method: "POST", anonymous: true,
                                          body: { email: email.value.trim(), password: password.value } }),
        signedIn(onToken)),
      h("p", {}, t("auth.newHere"), " ", h("a", { href: "/sign-up", "data-link": true }, t("auth.createAccount")), " · ",
        h("a", { href: "/forgot-password", "data-link": true }, t("auth.forgot"))));
  },
};

/** Pages of Muse's own accounts besides sign-in: render(container, query, onToken) each. */
export const ACCOUNT_PAGES = {
  "/sign-up": { title: "auth.signUpTitle", render(container, query, onToken) {
    const name = h("input", { name: "name", autocomplete: "name", maxlength: "200" });
    const email = emailInput();
    const password = passwordInput("new-password");
    append(container, 
      accountForm([field(t("auth.nameOptional"), name), field(t("auth.email"), email),
                   field(t("auth.password"), password, PASSWORD_RULES())], t("auth.create"),
        () => api("/api/v1/auth/register", { method: "POST", anonymous: true, body: {
          email: email.value.trim(), password: password.value, ...(name.value.trim() ? { name: name.value.trim() } : {}) } }),
        (answer) => {
          toast(t("auth.welcome"));
          signedIn(onToken)(answer);
        }),
      h("p", {}, t("auth.haveAccount"), " ", h("a", { href: "/sign-in", "data-link": true }, t("auth.signIn"))),
      devOutboxNote());
  } },
  "/forgot-password": { title: "auth.forgotTitle", render(container) {
    const email = emailInput();
    const note = h("div", { role: "status" });
    append(container, 
      h("p", {}, t("auth.forgotIntro")),
      accountForm([field(t("auth.email"), email)], t("auth.sendLink"),
        () => api("/api/v1/auth/password/forgot", { method: "POST", anonymous: true, body: { email: email.value.trim() } }),
        () => replace(note, h("p", {}, t("auth.linkSent", { email: email.value.trim() })))),
      note, devOutboxNote(),
      h("p", {}, h("a", { href: "/sign-in", "data-link": true }, t("auth.backToSignIn"))));
  } },
  "/reset-password": { title: "auth.resetTitle", render(container, query, onToken) {
    const password = passwordInput("new-password");
    append(container, 
      accountForm([field(t("auth.newPassword"), password, PASSWORD_RULES())], t("auth.saveAndSignIn"),
        () => api("/api/v1/auth/password/reset", { method: "POST", anonymous: true,
                                                   body: { token: query.get("token") || "", password: password.value } }),
        (answer) => { toast(t("auth.passwordChanged")); signedIn(onToken)(answer); }),
      h("p", {}, h("a", { href: "/forgot-password", "data-link": true }, t("auth.newLink"))));
  } },
  "/verify-email": { title: "auth.verifyTitle", async render(container, query) {
    const status = h("div", { role: "status" }, h("p", {}, t("auth.confirming")));
    append(container, status);
    try {
      const answer = await api("/api/v1/auth/verify-email", { method: "POST", anonymous: true,
                                                              body: { token: query.get("token") || "" } });
      replace(status, h("p", {}, t("auth.confirmed", { email: answer.email })));
    } catch (error) {
      replace(status, errorBox(error));
    }
    append(container, h("p", {}, h("a", { href: "/chat", "data-link": true }, t("auth.goToMuse"))));
  } },
};

/** Clerk (CLERK_PUBLISHABLE_KEY): Clerk's own sign-in component, from Clerk's library served by Muse. */
const clerk = {
  id: "clerk",
  title: "auth.signIn",
  async render(container, onToken, next) {
    return mountSignIn(container, next);
  },
};

export const METHODS = { dev, local, clerk };

/**
 * Forget the token; with Muse's own accounts also end the session on the server (at once,
 * everywhere); with Clerk, end Clerk's session (resolves once it has ended).
 */
export async function signOut() {
  if (window.__museAuthProvider === "clerk") return clerkSignOut();
  const token = session.token;
  session.token = null;
  if (token && window.__museAuthProvider === "local") {
    fetch("/api/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
  }
}
