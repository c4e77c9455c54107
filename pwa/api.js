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

// opts: {headers, blob: true} — blob answers (downloads, QR images) come back as
// {blob, filename} instead of parsed JSON.
async function send(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json', ...opts.headers };
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
    if (opts.blob && res.ok) {
      const blob = await res.blob();
      reportNetwork(true);
      return { status: res.status, ok: true, data: { blob, filename: filenameOf(res.headers.get('Content-Disposition')) } };
    }
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

function filenameOf(cd) {
  if (!cd) return null;
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  if (star) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      // fall through to the plain name
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(cd);
  return plain ? plain[1] : null;
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

// A 401 gets one refresh and one retry; `attempt` sends the request.
async function withAuth(attempt, auth) {
  let r = await attempt();
  if (r.status === 401 && auth) {
    try {
      await refresh();
    } catch (err) {
      throw refusesSession(err) ? loggedOut() : err;
    }
    r = await attempt();
    if (r.status === 401) throw loggedOut();
  }
  if (!r.ok) throw failure(r);
  return r.data;
}

function call(method, path, body, auth = true, opts = {}) {
  return withAuth(() => send(method, path, body, opts), auth);
}

/** Whether a session (access token) is held. */
export function signedIn() {
  return token !== null;
}

export function get(path, auth = true) {
  return call('GET', `/api/v1${path}`, undefined, auth);
}

export function post(path, body = {}, headers = undefined) {
  return call('POST', `/api/v1${path}`, body, true, { headers });
}

export function patch(path, body = {}) {
  return call('PATCH', `/api/v1${path}`, body);
}

export function del(path, headers = undefined) {
  return call('DELETE', `/api/v1${path}`, undefined, true, { headers });
}

/** A file (CSV, XLSX, SVG…) as {blob, filename}. */
export function getBlob(path) {
  return call('GET', `/api/v1${path}`, undefined, true, { blob: true });
}

/** Random id for an Idempotency-Key: one per user action, reused by its retries. */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// XMLHttpRequest, not fetch: only it reports upload progress, which matters
// for a spreadsheet going up over a weak mobile signal.
function xhrSend(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', path);
    x.setRequestHeader('Accept', 'application/json');
    if (token) x.setRequestHeader('Authorization', `Bearer ${token}`);
    x.timeout = 120000;
    if (onProgress) x.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    x.onload = () => {
      reportNetwork(true);
      let data = null;
      try {
        data = x.responseText ? JSON.parse(x.responseText) : null;
      } catch {
        // not JSON: keep the status
      }
      resolve({ status: x.status, ok: x.status >= 200 && x.status < 300, data, retryAfter: parseRetryAfter(x.getResponseHeader('Retry-After')) });
    };
    x.onerror = () => { reportNetwork(false); reject(networkError()); };
    x.ontimeout = x.onerror;
    x.send(form);
  });
}

/** Multipart upload; failures keep the body's extra fields (e.g. `rows`). */
export async function upload(path, form, onProgress) {
  let bad = null;
  try {
    return await withAuth(async () => {
      const r = await xhrSend(`/api/v1${path}`, form, onProgress);
      if (!r.ok && r.status !== 401) bad = r;
      return r;
    }, true);
  } catch (err) {
    if (bad && bad.data && bad.data.error) err.rows = bad.data.error.rows || [];
    throw err;
  }
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
  // Without the server's marker no session cookie can be there: do not ask
  // (a signed-out page would only hear 401).
  if (!/(?:^|;\s*)qunjia_session=1(?:;|$)/.test(document.cookie)) return null;
  let data;
  try {
    data = await refresh();
  } catch (err) {
    if (refusesSession(err)) {
      document.cookie = 'qunjia_session=; Max-Age=0; Path=/; SameSite=Strict';
      return null;
    }
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
