// What the whole app shares: the client configuration, the signed-in user, the catalogue.
import { api } from "./api.js";

export const state = { config: null, user: null, plans: null, maintenance: false };

export async function loadPlans() {
  if (!state.plans) state.plans = await api("/api/v1/plans", { anonymous: true });
  return state.plans;
}

const ROLES = ["USER", "SUBSCRIBER", "ADMIN"];
export function hasRole(role) {
  return ROLES.indexOf(state.user?.role || "USER") >= ROLES.indexOf(role);
}

/** Refresh the credits shown in the header; returns the credits object. */
export async function refreshCredits() {
  const credits = await api("/api/v1/credits");
  if (state.user) state.user.credits = credits;
  const pill = document.getElementById("credits-pill");
  if (pill) pill.textContent = `${credits.spendable} credits`;
  return credits;
}
