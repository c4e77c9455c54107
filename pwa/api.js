// Thin fetch wrapper for /api/v1.
//
// The access token lives only in this module variable: a reload forgets it and
// the HttpOnly refresh cookie (which JS never sees) brings a new one, so a
// script injected into the page can't lift a long-lived credential from storage.
let token = null;
let refreshing = null;

// 'network' (detail: {ok}) drives the offline banner; 'logout' fires when a
// session ends underneath the user (refresh refused).
export const events = new EventTarget();

// Cheap phones on weak signal can hang a request for minutes; give up earlier
// and let the user retry.
const TIMEOUT_MS = 30000;
const DEFAULT_CODES = { 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 429: 'rate_limited' };

function networkError() {
  return { status: 0, code: 'network', message: '', retryAfter: null };
}

function parseRetryAfter(value) {
  if (!value) return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const ms = Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / 1000)) : null;
}

function reportNetwork(ok) {
  events.dispatchEvent(new CustomEvent('network', { detail: { ok } }));
}

async function send(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  let res;
  let text;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctl.signal,
    });
    text = await res.text();
  } catch {
    reportNetwork(false);
    throw networkError();
  } finally {
    clearTimeout(timer);
  }
  reportNetwork(true);
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // A proxy's HTML error page: keep the status, drop the body.
  }
  return { status: res.status, ok: res.ok, data, retryAfter: parseRetryAfter(res.headers.get('Retry-After')) };
}

function failure(r) {
  const e = (r.data && r.data.error) || {};
  return {
    status: r.status,
    code: e.code || DEFAULT_CODES[r.status] || 'unknown',
    message: e.message || '',
    retryAfter: r.retryAfter,
  };
}

// A 4xx other than 429 means the server looked at the cookie and said no;
// 5xx or 429 say nothing about the session, so it is kept.
function refusesSession(err) {
  return err.status >= 400 && err.status < 500 && err.status !== 429;
}

// Refresh tokens rotate and a reused one revokes the whole login, so two
// parallel 401s must share one refresh instead of racing.
function refresh() {
  if (!refreshing) {
    refreshing = send('POST', '/api/v1/auth/refresh', {})
      .then((r) => {
        if (!r.ok) throw failure(r);
        token = r.data.access_token;
        return r.data;
      })
      .catch((err) => {
        if (refusesSession(err)) token = null;
        throw err;
      })
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

function loggedOut() {
  token = null;
  events.dispatchEvent(new Event('logout'));
  return { status: 401, code: 'unauthorized', message: '', retryAfter: null };
}

async function call(method, path, body, auth = true) {
  let r = await send(method, path, body);
  if (r.status === 401 && auth) {
    try {
      await refresh();
    } catch (err) {
      throw refusesSession(err) ? loggedOut() : err;
    }
    r = await send(method, path, body);
    if (r.status === 401) throw loggedOut();
  }
  if (!r.ok) throw failure(r);
  return r.data;
}

/** POST /auth/otp → {expires_in, resend_after}. */
export function requestOtp(phone) {
  return call('POST', '/api/v1/auth/otp', { phone }, false);
}

/** POST /auth/login; the refresh token comes back as an HttpOnly cookie. */
export async function login(phone, code) {
  const data = await call('POST', '/api/v1/auth/login', { phone, code, use_cookie: true }, false);
  token = data.access_token;
  return data;
}

/**
 * Resumes a session from the refresh cookie. Returns the user, or null when
 * there is no (valid) session; throws {code: 'network'} (or a 5xx/429 error)
 * when the server could not be asked, so the caller can offer a retry.
 */
export async function restoreSession() {
  let data;
  try {
    data = await refresh();
  } catch (err) {
    if (refusesSession(err)) return null;
    throw err;
  }
  return data.user || getMe();
}

/** Ends the session server-side. Throws only on a network error, so the user can retry. */
export async function logout() {
  try {
    await call('POST', '/api/v1/auth/logout', {}, false);
  } catch (err) {
    // Offline: the cookie is still valid, so pretending to be logged out would
    // leave the next person on a shared phone signed in.
    if (err.code === 'network') throw err;
  }
  token = null;
}

export function getMe() {
  return call('GET', '/api/v1/me');
}

export function patchMe(fields) {
  return call('PATCH', '/api/v1/me', fields);
}

export function lookupUnits(q) {
  return call('GET', `/api/v1/units/lookup?q=${encodeURIComponent(q)}`);
}
