// Muse web app: boot, router (one URL per view, history API) and the header.
import { api, ApiError, onApiError, session, useSessionRenewal } from "./api.js";
import { ACCOUNT_PAGES, METHODS, signOut } from "./auth.js";
import { loadClerk } from "./clerk.js";
import { forgetMe, hasRole, loadClientConfig, loadMe, refreshCredits, state } from "./state.js";
import { append, errorBox, h, humane, replace, toast } from "./ui.js";
import { LANGUAGES, language, setLanguage, t, tValue } from "./i18n.js";
import { myAccountPage } from "./pages/account.js";
import { adminPage } from "./pages/admin.js";
import { chatPage } from "./pages/chat.js";
import { checkoutPage } from "./pages/checkout.js";
import { creditsPage } from "./pages/credits.js";
import { describePage, editPage } from "./pages/edit.js";
import { galleryPage } from "./pages/gallery.js";
import { imagePage } from "./pages/image.js";
import { keysPage } from "./pages/keys.js";
import { usagePage } from "./pages/usage.js";
import { studioPage } from "./pages/studio.js";
import { videoPage } from "./pages/video.js";
import { videosPage } from "./pages/videos.js";

const main = document.getElementById("main");
const THEME_KEY = "muse.theme";

/** The theme: "system" follows prefers-color-scheme; "light" or "dark" as chosen (kept in localStorage). */
function applyTheme(theme) {
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}
function storedTheme() { try { return localStorage.getItem(THEME_KEY) || "system"; } catch { return "system"; } }
applyTheme(storedTheme());

function renderPrefs() {
  const theme = h("select", { name: "theme", "aria-label": t("theme") },
    ["system", "light", "dark"].map((value) => h("option", { value, selected: storedTheme() === value }, t(`theme.${value}`))));
  theme.addEventListener("change", () => {
    try { localStorage.setItem(THEME_KEY, theme.value); } catch { /* storage off */ }
    applyTheme(theme.value);
  });
  const lang = h("select", { name: "language", "aria-label": t("language") },
    LANGUAGES.map(([value, label]) => h("option", { value, lang: value, translate: "no", selected: language() === value }, label)));
  lang.addEventListener("change", () => { setLanguage(lang.value); renderChrome(); renderPrefs(); renderNav(); render(); });
  replace(document.getElementById("prefs"), theme, lang);
}
const NAV = [
  ["/chat", "nav.chat"], ["/studio", "nav.studio"], ["/gallery", "nav.gallery"], ["/videos", "nav.videos"],
  ["/edit", "nav.edit"], ["/describe", "nav.describe"], ["/credits", "nav.credits"], ["/usage", "nav.usage"],
  ["/keys", "nav.keys"], ["/account", "nav.account"], ["/admin", "nav.admin", "ADMIN"],
];
const ROUTES = [
  [/^\/sign-in$/, signInPage, false],
  [/^\/(sign-up|forgot-password|reset-password|verify-email)$/, accountPage, false],
  [/^\/chat(?:\/([\w-]+))?$/, chatPage],
  [/^\/studio$/, studioPage],
  [/^\/gallery$/, galleryPage],
  [/^\/images\/([\w-]+)$/, imagePage],
  [/^\/videos$/, videosPage],
  [/^\/videos\/([\w-]+)$/, videoPage],
  [/^\/edit$/, editPage],
  [/^\/describe$/, describePage],
  [/^\/credits$/, creditsPage],
  [/^\/checkout\/(success|cancel)$/, checkoutPage],
  [/^\/keys$/, keysPage],
  [/^\/usage$/, usagePage],
  [/^\/account$/, myAccountPage],
  [/^\/admin(?:\/([\w-]+)(?:\/([\w-]+))?)?$/, adminPage, true, "ADMIN"],
];

let cleanup = null;

export function navigate(url, { replace: replaceState = false } = {}) {
  if (replaceState) history.replaceState(null, "", url); else history.pushState(null, "", url);
  render();
}

/** The page's own texts outside the views (index.html's skip link, the header's labels). */
function renderChrome() {
  document.querySelector("a.skip").textContent = t("page.skip");
  document.getElementById("nav").setAttribute("aria-label", t("nav.main"));
  document.querySelector("a.brand").setAttribute("translate", "no");
}

function renderNav() {
  const nav = document.getElementById("nav");
  const account = document.getElementById("account");
  if (!state.user) { replace(nav); replace(account); return; }
  const path = location.pathname;
  replace(nav, h("ul", {}, NAV.filter(([, , role]) => !role || hasRole(role)).map(([href, label]) =>
    h("li", {}, h("a", { href, "data-link": true, "aria-current": path === href || path.startsWith(href + "/") || (href === "/gallery" && path.startsWith("/images/")) ? "page" : null }, t(label))))));
  const credits = state.user.credits;
  replace(account,
    h("a.pill", { id: "credits-pill", href: "/credits", "data-link": true, title: t("header.spendable") },
      credits ? t("credits.count", { count: credits.spendable }) : t("header.credits")),
    h("span.muted", {}, state.user.email || state.user.clerk_id
      ? h("span", { translate: "no" }, state.user.email || state.user.clerk_id) : t("header.signedIn"),
      " · ", tValue("role", state.user.role)),
    h("button", { type: "button", onclick: async () => { forgetMe(); await signOut(); state.user = null; navigate("/sign-in"); } },
      t("nav.signOut")));
}

function showMaintenance(on) {
  state.maintenance = on;
  const banner = document.getElementById("banner");
  banner.hidden = !on;
  banner.textContent = on ? t("problem.maintenance") : "";
}

onApiError((error) => {
  if (error.code === "maintenance") showMaintenance(true);
  if (error.status === 401 && session.token) {
    state.user = null;
    forgetMe();
    toast(humane(error), { bad: true });
    signOut().finally(() => navigate("/sign-in"));
  }
});

async function loadUser() {
  try {
    state.user = await loadMe();
    showMaintenance(false);
  } catch (error) {
    if (error.code !== "maintenance") throw error;
    // During maintenance only admin routes answer: an admin can still get in to switch it off.
    try {
      await api("/api/v1/admin/settings");
      state.user = { role: "ADMIN", clerk_id: "admin", credits: null };
    } catch { state.user = { role: "USER", credits: null }; }
  }
}

async function signInPage(container) {
  const provider = state.config?.auth?.provider || "none";
  const method = METHODS[provider];
  document.title = `${t("auth.signIn")} · Muse`;
  const box = h(provider === "clerk" ? "div.clerk-box" : "div.card");
  append(container, h("h1", { tabindex: "-1" }, t(method ? method.title : "auth.signIn")), box);
  if (!method) {
    append(box, h("p", {}, t("auth.noMethod")));
    return null;
  }
  state.user = null;
  return method.render(box, signedIn, nextPath());
}

/** Where to go after signing in: the `next` of the URL when it is a path of this app, else chat. */
function nextPath() {
  const back = new URLSearchParams(location.search).get("next");
  return back && back.startsWith("/") && !back.startsWith("//") ? back : "/chat";
}

/** A token from any sign-in method (with its lifetime in seconds when it has one): go on to the app. */
function signedIn(token, expiresIn) {
  session.start(token, expiresIn);
  state.user = null;
  navigate(nextPath());
}

/** Sign-up, password reset and email confirmation of Muse's own accounts (AUTH_PROVIDER=local). */
async function accountPage(container, [name], query) {
  const page = state.config?.auth?.provider === "local" ? ACCOUNT_PAGES[`/${name}`] : null;
  if (!page) {
    append(container, h("h1", { tabindex: "-1" }, t("page.notFound")), h("p", {}, t("auth.noAccounts"), " ",
      h("a", { href: "/sign-in", "data-link": true }, t("auth.signInInstead"))));
    return;
  }
  const box = h("div.card");
  append(container, h("h1", { tabindex: "-1" }, t(page.title)), box);
  await page.render(box, query, signedIn);
}

let renders = 0;

async function render() {
  if (cleanup) { try { cleanup(); } catch { /* ignore */ } cleanup = null; }
  const ticket = ++renders;
  // Each render draws into its own element: a slower, older page finishing late draws off-screen.
  const view = h("div.view");
  const path = location.pathname === "/" ? (session.token ? "/chat" : "/sign-in") : location.pathname;
  if (path !== location.pathname) history.replaceState(null, "", path + location.search);
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  replace(main, view);
  if (!route) {
    append(view, h("h1", { tabindex: "-1" }, t("page.notFound")), h("p", {}, h("a", { href: "/chat", "data-link": true }, t("page.goToChat"))));
    return finish();
  }
  const [pattern, page, needsAuth = true, role] = route;
  if (needsAuth && !session.token) {
    history.replaceState(null, "", `/sign-in?next=${encodeURIComponent(path + location.search)}`);
    return render();
  }
  try {
    if (needsAuth && !state.user) await loadUser();
    renderNav();
    if (ticket !== renders) return;
    if (role && !hasRole(role)) {
      append(view, h("h1", { tabindex: "-1" }, t("page.notAvailable")), h("p", {}, t("page.adminsOnly")));
      return finish();
    }
    const params = path.match(pattern).slice(1);
    const pageCleanup = (await page(view, params, new URLSearchParams(location.search), navigate)) || null;
    if (ticket !== renders) { pageCleanup?.(); return; }
    cleanup = pageCleanup;
  } catch (error) {
    if (!(error instanceof ApiError)) console.error(error);  // a bug: keep it visible to developers
    if (error?.name === "AbortError" || ticket !== renders) return;
    const heading = t(error?.code === "maintenance" ? "page.maintenance" : "page.wrong");
    replace(view, h("h1", { tabindex: "-1" }, heading), errorBox(error instanceof ApiError ? error : new ApiError({ code: "internal_error", detail: String(error?.message || error) })));
  }
  finish();
}

function finish() {
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    document.title = `${heading.textContent} · Muse`;
    if (document.activeElement === document.body || !main.contains(document.activeElement)) heading.focus({ preventScroll: true });
  }
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || link.target || link.hasAttribute("download")) return;
  if (/^\/(api|media|s|docs|openapi\.json|assets|health)(\/|$)/.test(url.pathname)) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener("popstate", () => render());
window.__museRefreshCredits = () => refreshCredits().catch(() => {});
window.__museNav = renderNav;

(async () => {
  try {
    state.config = await loadClientConfig();
    window.__museAuthProvider = state.config.auth.provider;
    window.__museAppEnv = state.config.app_env;
    useSessionRenewal(state.config.auth.provider === "local");
    if (state.config.auth.provider === "clerk") {
      await loadClerk(state.config.auth.clerk_publishable_key, {
        navigate: (url, options) => navigate(new URL(url, location.href).href, options),
        onSignedOut: () => { state.user = null; forgetMe(); navigate("/sign-in"); },
      });
    }
  } catch (error) {
    state.config = { auth: { provider: "none" } };
    replace(main, errorBox(error));
    return;
  }
  renderChrome();
  renderPrefs();
  render();
})();
