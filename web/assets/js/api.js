// The one module that talks to Muse's public /api/v1 API (see /openapi.json).
// Adds the bearer token and X-Request-ID, turns problem+json into ApiError,
// honours Retry-After on reads, and sends Idempotency-Key on spending POSTs.

const TOKEN_KEY = "muse.token";
const EXPIRES_KEY = "muse.token_expires";  // ms since the epoch; only Muse's own sessions expire here
const RENEW_BEFORE_MS = 60_000;
const listeners = new Set();
let renewer = null;  // set by useSessionRenewal (AUTH_PROVIDER=local)
let renewing = null;  // the one refresh in flight: two at once would race the session's rotation
let tokenSource = null;  // set by useTokenSource (Clerk: its library keeps the short-lived token fresh)

/** An error answered by the API (RFC 9457 problem) or a network failure. */
export class ApiError extends Error {
  constructor({ status = 0, code = "network_error", title = "", detail = "", requestId = "",
                retryAfter = null, errors = null } = {}) {
    super(detail || title || code);
    this.name = "ApiError";
    Object.assign(this, { status, code, title, detail, requestId, retryAfter, errors });
  }
}

export const session = {
  get token() { return localStorage.getItem(TOKEN_KEY); },
  set token(value) {
    if (value) localStorage.setItem(TOKEN_KEY, value); else localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(EXPIRES_KEY);
  },
  /** A token with its lifetime (seconds), so it is renewed before it runs out. */
  start(token, expiresIn) {
    this.token = token;
    if (token && expiresIn) localStorage.setItem(EXPIRES_KEY, String(Date.now() + expiresIn * 1000));
  },
  get expiresAt() { return Number(localStorage.getItem(EXPIRES_KEY)) || null; },
};

/**
 * Muse's own sessions (contract §17): POST /api/v1/auth/refresh shortly before the token expires,
 * or once after a 401, then retry the request. A failed renewal ends the session as a 401 does.
 */
export function useSessionRenewal(on = true) { renewer = on ? renewSession : null; }

async function renewSession() {
  const token = session.token;
  if (!token) return false;
  renewing ??= (async () => {
    try {
      const response = await fetch("/api/v1/auth/refresh", { method: "POST", headers: {
        Authorization: `Bearer ${token}`, "X-Request-ID": newRequestId(), Accept: "application/json" } });
      if (!response.ok) return false;
      const answer = await response.json();
      if (session.token === token) session.start(answer.access_token, answer.expires_in);
      return true;
    } catch { return false; } finally { renewing = null; }
  })();
  return renewing;
}

/**
 * Clerk sign-in: `source({ fresh })` resolves to the current session token (Clerk's library renews
 * its one-minute tokens itself and caches them), asked for each request; `fresh` after a 401.
 */
export function useTokenSource(source) { tokenSource = source; }

async function bearer(anonymous, fresh = false) {
  if (anonymous) return null;
  if (!tokenSource || !session.token) return session.token;
  return (await tokenSource({ fresh })) || session.token;
}

const isAuthCall = (path) => path.startsWith("/api/v1/auth/");

/** Called with every ApiError (the app shows maintenance banners and signs out on 401). */
export function onApiError(fn) { listeners.add(fn); }

export function newRequestId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return "web_" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function newIdempotencyKey() { return crypto.randomUUID(); }

async function toError(response, requestId) {
  let body = {};
  try { body = await response.json(); } catch { /* not JSON: keep the status */ }
  const retry = Number(response.headers.get("Retry-After"));
  return new ApiError({
    status: response.status, code: body.code || `http_${response.status}`, title: body.title || "",
    detail: body.detail || "", errors: body.errors || null,
    requestId: body.request_id || response.headers.get("X-Request-ID") || requestId,
    retryAfter: Number.isFinite(retry) && response.headers.has("Retry-After") ? retry : null,
  });
}

function headersFor({ json, idempotencyKey, requestId, token, accept }) {
  const headers = { "X-Request-ID": requestId, Accept: accept || "application/json, application/problem+json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json) headers["Content-Type"] = "application/json";
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  return headers;
}

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
});

/**
 * Call the API. `body` is sent as JSON, `form` as multipart. `idempotent: true` adds an
 * Idempotency-Key (pass `idempotencyKey` to reuse one on a retry); `anonymous: true` sends no
 * token (public reads count against the client's address, not the user). GETs wait out a short
 * Retry-After (429) once. `accept` asks for another media type (e.g. `text/csv`, resolved as text).
 * Resolves to the parsed JSON (null for 204).
 */
export async function api(path, { method = "GET", body, form, idempotent = false, idempotencyKey,
                                  signal, raw = false, anonymous = false, accept } = {}) {
  const key = idempotent ? (idempotencyKey || newIdempotencyKey()) : null;
  const renewable = renewer && !anonymous && !isAuthCall(path);
  if (renewable && session.token && session.expiresAt && session.expiresAt - Date.now() < RENEW_BEFORE_MS) {
    await renewer();  // a failure leaves the old token: the 401 below then ends the session
  }
  let renewed = false;
  let fresh = false;
  for (let attempt = 0; ; attempt++) {
    const requestId = newRequestId();
    let response;
    try {
      const token = await bearer(anonymous, fresh);
      response = await fetch(path, {
        method, signal, headers: headersFor({ json: body !== undefined, idempotencyKey: key, requestId, token, accept }),
        body: body !== undefined ? JSON.stringify(body) : form,
      });
    } catch (exc) {
      if (exc?.name === "AbortError") throw exc;
      const error = new ApiError({ requestId });  // network_error: the catalogue says it in words
      listeners.forEach((fn) => fn(error));
      throw error;
    }
    if (raw && response.ok) return response;
    if (response.ok) {
      if (response.status === 204) return null;
      const type = response.headers.get("Content-Type") || "";
      return type.includes("json") ? response.json() : response.text();
    }
    if (response.status === 401 && renewable && !renewed && session.token) {
      renewed = true;
      if (await renewer()) { attempt--; continue; }
    }
    if (response.status === 401 && tokenSource && !anonymous && !fresh && session.token) {
      fresh = true;  // Clerk: the cached token may have just expired; ask for a new one, once
      attempt--;
      continue;
    }
    const error = await toError(response, requestId);
    const safeToRetry = method === "GET" || key;
    if (error.status === 429 && safeToRetry && attempt === 0 && (error.retryAfter ?? 99) <= 5) {
      await sleep((error.retryAfter || 1) * 1000, signal);
      continue;
    }
    listeners.forEach((fn) => fn(error));
    throw error;
  }
}

/**
 * POST a chat request with `stream: true` and read its server-sent events with a stream
 * reader (EventSource cannot send Authorization). Calls onEvent(name, data) per event.
 * Abort with `signal` (the Stop button). `path`: another endpoint that streams as chat does
 * (POST /api/v1/conversations/{id}/messages/{message_id}/regenerate).
 */
export async function streamChat(payload, { onEvent, signal, idempotencyKey, path = "/api/v1/chat" } = {}) {
  const response = await api(path, {
    method: "POST", body: { ...payload, stream: true }, idempotent: true, idempotencyKey, signal, raw: true,
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (!data.length) continue;
      let parsed;
      try { parsed = JSON.parse(data.join("\n")); } catch { parsed = data.join("\n"); }
      if (name === "error") {
        throw new ApiError({ status: parsed.status, code: parsed.code, title: parsed.title,
                             detail: parsed.detail, requestId: parsed.request_id });
      }
      onEvent?.(name, parsed);
    }
  }
}

/**
 * Follow a media job's progress pushed by the server (contract §15): GET
 * /api/v1/{images|videos}/{id}/events, `event: status` with the resource at each status change,
 * ending after a terminal status. Calls onStatus(resource) per event; resolves to the last
 * resource (null if the stream ended first). Abort with `signal`.
 */
export async function followJob(kind, id, { onStatus, signal } = {}) {
  const response = await api(`/api/v1/${kind}/${encodeURIComponent(id)}/events`, { signal, raw: true });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return last;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5).replace(/^ /, ""));
      if (!data.length || !block.split("\n").includes("event: status")) continue;
      last = JSON.parse(data.join("\n"));
      onStatus?.(last);
    }
  }
}
