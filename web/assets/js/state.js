// What the whole app shares: the client configuration, the signed-in user, the catalogue.
//
// Reads are few on purpose (the free plan's API bucket is 10 requests, refilled at 1/s, and a
// reload must not spend it): the deployment's client configuration and the catalogue are kept
// for this tab's session for a few minutes, the signed-in user (/me) for half a minute, and a
// page that needs the credits takes them from a /me answer that is only seconds old.
import { api, session } from "./api.js";
import { t } from "./i18n.js";

export const state = { config: null, user: null, plans: null, maintenance: false };

const STATIC_TTL_MS = 5 * 60_000;  // client-config, plans: they change with a deployment
const ME_TTL_MS = 30_000;
const FRESH_MS = 5_000;
let userFetchedAt = 0;

function remembered(key, ttl, owner = "") {
  try {
    const entry = JSON.parse(sessionStorage.getItem(key) || "null");
    return entry && entry.owner === owner && Date.now() - entry.at < ttl ? entry : null;
  } catch { return null; }
}

function remember(key, value, owner = "", at = Date.now()) {
  try { sessionStorage.setItem(key, JSON.stringify({ owner, at, value })); } catch { /* storage full or off */ }
}

/** GET an anonymous, deployment-wide document once per tab session (a few minutes). */
async function loadStatic(path) {
  const key = `muse.cache:${path}`;
  const entry = remembered(key, STATIC_TTL_MS);
  if (entry) return entry.value;
  const value = await api(path, { anonymous: true });
  remember(key, value);
  return value;
}

export const loadClientConfig = () => loadStatic("/api/v1/client-config");

export async function loadPlans() {
  state.plans ??= await loadStatic("/api/v1/plans");
  return state.plans;
}

/** The signed-in user (GET /api/v1/me), reused for half a minute by this tab (reloads included). */
export async function loadMe() {
  const entry = remembered("muse.me", ME_TTL_MS, session.token || "");
  if (entry) {
    userFetchedAt = entry.at;
    return entry.value;
  }
  const user = await api("/api/v1/me");
  userFetchedAt = Date.now();
  remember("muse.me", user, session.token || "", userFetchedAt);
  return user;
}

/** Forget the signed-in user (sign-out, 401). */
export function forgetMe() {
  try { sessionStorage.removeItem("muse.me"); } catch { /* ignore */ }
  userFetchedAt = 0;
}

const ROLES = ["USER", "SUBSCRIBER", "ADMIN"];
export function hasRole(role) {
  return ROLES.indexOf(state.user?.role || "USER") >= ROLES.indexOf(role);
}

/** Show `credits` (an answer that carries them: /credits, a redeemed gift code) in the header. */
export function setCredits(credits) {
  if (state.user) {
    state.user.credits = credits;
    remember("muse.me", state.user, session.token || "", userFetchedAt || Date.now());
  }
  const pill = document.getElementById("credits-pill");
  if (pill) pill.textContent = t("credits.count", { count: credits.spendable });
  return credits;
}

/** Refresh the credits shown in the header; returns the credits object. */
export async function refreshCredits() {
  return setCredits(await api("/api/v1/credits"));
}

/** The credits: those of a /me answer from the last few seconds, else fresh from the API. */
export async function currentCredits() {
  if (state.user?.credits && Date.now() - userFetchedAt < FRESH_MS) return state.user.credits;
  return refreshCredits();
}
