// Clerk sign-in (contract §11), when the server has CLERK_PUBLISHABLE_KEY: Clerk's own browser
// library and components, served by Muse from /assets/vendor/ (`make vendor`, pinned npm
// packages), never from a third-party host. Clerk keeps its one-minute session token fresh; the
// API module asks it for the token on every call (useTokenSource).
import { session, useTokenSource } from "./api.js";
import { t } from "./i18n.js";
import { append } from "./ui.js";

const UI_SCRIPT = "/assets/vendor/clerk-ui/ui.browser.js";  // @clerk/ui: window.__internal_ClerkUICtor
const CLERK_SCRIPT = "/assets/vendor/clerk/clerk.browser.js";  // @clerk/clerk-js: window.Clerk
let loading = null;

function addScript(src) {
  return new Promise((resolve, reject) => {
    const element = document.createElement("script");
    element.src = src;
    element.onload = resolve;
    element.onerror = () => reject(new Error(t("auth.clerkMissing")));
    append(document.head, element);
  });
}

/** The marker kept while Clerk has a session (the real token is asked of Clerk per request). */
function remember(clerkSession) {
  session.token = clerkSession.lastActiveToken?.getRawString() || "clerk-session";
}

/**
 * Load Clerk once and keep the app's session in step with it. `navigate(url, options)` is the app's
 * router (Clerk navigates with it, without reloading the page); `onSignedOut()` runs when Clerk's
 * session ends elsewhere (another tab, expiry). Resolves to window.Clerk.
 */
export function loadClerk(publishableKey, { navigate, onSignedOut }) {
  loading ??= (async () => {
    window.__clerk_publishable_key = publishableKey;  // read by clerk.browser.js as it starts
    await addScript(UI_SCRIPT);
    await addScript(CLERK_SCRIPT);
    const clerk = window.Clerk;
    await clerk.load({
      ui: { ClerkUI: window.__internal_ClerkUICtor },
      routerPush: (to) => navigate(to),
      routerReplace: (to) => navigate(to, { replace: true }),
      signInFallbackRedirectUrl: "/chat",
      afterSignOutUrl: "/sign-in",
    });
    useTokenSource(async ({ fresh }) => {
      try { return (await clerk.session?.getToken({ skipCache: fresh })) || null; } catch { return null; }
    });
    if (clerk.session) remember(clerk.session); else session.token = null;
    clerk.addListener(({ session: current }) => {
      if (current) remember(current);
      else if (session.token) { session.token = null; onSignedOut(); }
    });
    return clerk;
  })();
  loading.catch(() => { loading = null; });
  return loading;
}

/** Clerk's sign-in component in `container`; after sign-in Clerk goes on to `next`. */
export async function mountSignIn(container, next) {
  const clerk = await loading;
  if (clerk.session) {  // signed in already (another tab, or back to this page)
    remember(clerk.session);
    await clerk.navigate(next);
    return null;
  }
  const node = document.createElement("div");
  node.className = "clerk-sign-in";
  append(container, node);
  clerk.mountSignIn(node, { routing: "virtual", forceRedirectUrl: next, signUpForceRedirectUrl: next });
  return () => clerk.unmountSignIn(node);
}

/** End Clerk's session (its Frontend API), then the app's. */
export async function clerkSignOut() {
  const clerk = await loading?.catch(() => null);
  session.token = null;
  if (clerk?.session) await clerk.signOut().catch(() => {});
}
