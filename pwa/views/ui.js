// Small DOM helpers shared by the views.
import * as api from '../api.js';
import { setText, setAttrs, clearText, errorKey } from '../i18n/index.js';

/**
 * h('button', {id: 'x', i18n: 'key', args: {...}, i18nAttr: {placeholder: 'key'}, onclick: fn}, ...children)
 * Plain strings as children are user data (names), never UI text.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false || k === 'args') continue;
    if (k === 'i18n') setText(el, v, props.args);
    else if (k === 'i18nAttr') setAttrs(el, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c != null && c !== false) el.append(c);
  return el;
}

/** Removes all children (replaceChildren needs Chrome 86; cheap phones run older WebViews). */
export function empty(el) {
  el.textContent = '';
  return el;
}

export function showError(el, err) {
  const [key, params] = errorKey(err);
  setText(el, key, params);
}

export { clearText as clearError };

/**
 * Runs fn with the button disabled and marked busy; a click (or Enter) while
 * a request is in flight is ignored, so nothing is submitted twice.
 */
export async function busy(button, fn) {
  if (button.disabled || button.getAttribute('aria-busy') === 'true') return undefined;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** Full-width digits and plus sign (Chinese IMEs) to ASCII. */
export function asciiDigits(s) {
  return s.replace(/[\uFF10-\uFF19\uFF0B]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0));
}

/** 138 1234 5678, 138-1234-5678, +86 138… → 13812345678, or null if not a mainland mobile. */
export function normalizePhone(raw) {
  let d = asciiDigits(raw).replace(/[\s\-()]/g, '');
  if (d.startsWith('+86')) d = d.slice(3);
  else if (/^86\d{11}$/.test(d)) d = d.slice(2);
  return /^1[3-9]\d{9}$/.test(d) ? d : null;
}

export function maskPhone(phone) {
  const d = String(phone || '').replace(/\D/g, '').slice(-11);
  return d.length === 11 ? `${d.slice(0, 3)}****${d.slice(7)}` : String(phone || '');
}

/** sessionStorage key of a join started before login: only the public join code. */
export const PENDING_JOIN = 'qunjia.pendingJoin';

/** Ids from the user's roles, e.g. scopeIds(user, 'admin', 'region') → [12]. */
export function scopeIds(user, role, kind) {
  const out = [];
  for (const r of (user && user.roles) || []) {
    const [k, id] = String(r.scope).split(':');
    if (r.role === role && k === kind && /^\d+$/.test(id)) out.push(Number(id));
  }
  return out;
}

export function isOfficer(user) {
  return scopeIds(user, 'admin', 'region').length > 0 || scopeIds(user, 'org_admin', 'org').length > 0;
}

/**
 * Loading, then draw(data) or an error with a retry button; draw shows the
 * empty state itself.
 */
export async function load(box, fetcher, draw) {
  empty(box).append(h('p', { class: 'muted', role: 'status', i18n: 'app.loading' }));
  let data;
  try {
    data = await fetcher();
  } catch (err) {
    const p = h('p', { class: 'error', role: 'alert' });
    showError(p, err);
    empty(box).append(p, h('button', { type: 'button', class: 'retry', i18n: 'app.retry', onclick: () => load(box, fetcher, draw) }));
    return;
  }
  empty(box);
  draw(data);
}

/** Saves a fetched file through a temporary object URL and <a download>. */
export function saveBlob(file, fallbackName) {
  const url = URL.createObjectURL(file.blob);
  const a = h('a', { href: url, download: file.filename || fallbackName, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  // Revoking at once can cancel the download on some Android browsers.
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** A button that downloads an authenticated file; errors go to `msg`. */
export function downloadButton(id, key, path, name, msg) {
  const b = h('button', { id, type: 'button', i18n: key });
  b.addEventListener('click', () => busy(b, async () => {
    clearText(msg);
    try {
      saveBlob(await api.getBlob(typeof path === 'function' ? path() : path), name);
    } catch (err) {
      showError(msg, err);
    }
  }));
  return b;
}

export const ORG_TYPES = ['union', 'league', 'women'];
export const ORG_FORMS = ['single', 'joint', 'regional', 'industry', 'online'];
export const UNIT_KINDS = ['enterprise', 'social_org', 'association', 'platform'];

/** i18n key of a value from a closed list, or null for an unknown one. */
export function enumKey(prefix, list, value) {
  return list.includes(value) ? `${prefix}.${value}` : null;
}

/** '?a=1&b=x' from an object, leaving out empty values (the API rejects `q=`). */
export function qs(params) {
  const parts = Object.entries(params)
    .filter(([, v]) => v != null && v !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** sessionStorage key of a check-in started before login: {path, key, body, scanned_at}, never a credential. */
export const PENDING_CHECKIN = 'qunjia.pendingCheckin';

export function readJson(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) || 'null');
  } catch {
    return null;
  }
}

export function writeJson(key, value) {
  try {
    if (value == null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage blocked: the person scans again after logging in.
  }
}

/** ISO time or epoch (s or ms) → ms since epoch, or NaN. */
export function toMs(v) {
  if (typeof v === 'number') return v < 1e11 ? v * 1000 : v;
  return Date.parse(v);
}
