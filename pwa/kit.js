// The one UI kit: DOM helpers, error wording, input parsing, money, badges and the
// officer screens' pickers and pagers. It is in the shell, so it carries no text of
// its own: the screens of services, cases and campaigns import their i18n table
// (i18n/cases.js, i18n/officer-cases.js) themselves.
import * as api from './api.js';
import { t, setText, setAttrs, clearText, errorKey } from './i18n/index.js';

// ---------------------------------------------------------------- DOM

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
  return add(el, ...children);
}

/** Appends the children that are there: `el.append(null)` would print "null". */
export function add(el, ...children) {
  for (const c of children) if (c != null && c !== false) el.append(c);
  return el;
}

/** Removes all children (replaceChildren needs Chrome 86; cheap phones run older WebViews). */
export function empty(el) {
  el.textContent = '';
  return el;
}

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

/**
 * Loading, then draw(data) or the error (worded as showError with `table`) with
 * a retry button; draw shows the empty state itself.
 */
export async function load(box, fetcher, draw, table) {
  empty(box).append(h('p', { class: 'muted', role: 'status', i18n: 'app.loading' }));
  let data;
  try {
    data = await fetcher();
  } catch (err) {
    const p = h('p', { class: 'error', role: 'alert' });
    showError(p, err, table);
    empty(box).append(p, h('button', { type: 'button', class: 'retry', i18n: 'app.retry', onclick: () => load(box, fetcher, draw, table) }));
    return;
  }
  empty(box);
  draw(data);
}

/** Reruns fn every `ms` while the page is visible and when it comes back into view; returns a stop function. */
export function whileVisible(fn, ms) {
  const tick = () => { if (document.visibilityState === 'visible') fn(); };
  const timer = setInterval(tick, ms);
  document.addEventListener('visibilitychange', tick);
  window.addEventListener('focus', tick);
  return () => {
    clearInterval(timer);
    document.removeEventListener('visibilitychange', tick);
    window.removeEventListener('focus', tick);
  };
}

// ---------------------------------------------------------------- errors

/**
 * An API error in plain words. Without `table`, the shell's wording (err.*).
 * The screens of services, cases and campaigns pass the name of their own error
 * table ('case' for case.err.*, 'oc' for oc.err.*): its wording first, then the
 * shell's, and for a code neither knows the server's own (plain Chinese) message
 * rather than a vague "出错了".
 */
export function showError(el, err, table) {
  const [key, params] = errorKey(err);
  if (table) {
    // A proxy's 413 or 415 comes without our JSON body, so without a code.
    const status = err && err.status;
    const code = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : (err && err.code) || 'generic';
    const own = `${table}.err.${code}`;
    if (t(own) !== own) {
      setText(el, own);
      return;
    }
    if ((key === 'err.generic' || code === 'bad_request') && err && err.message) {
      clearText(el);
      el.textContent = err.message;
      return;
    }
  }
  setText(el, key, params);
}

export { clearText as clearError };

// ---------------------------------------------------------------- input

/** Full-width digits and signs (Chinese IMEs) to ASCII. */
export function asciiDigits(s) {
  return s.replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0));
}

/** As the server reads it: 138 1234 5678, (+86) 138-1234-5678, 0086…, full-width → 13812345678, or null. */
export function normalizePhone(raw) {
  let d = asciiDigits(raw).replace(/[\s\-()\u2010-\u2015\u2212]/g, '');
  if (d.startsWith('+86')) d = d.slice(3);
  else if (d.startsWith('0086')) d = d.slice(4);
  else if (/^86\d{11}$/.test(d)) d = d.slice(2);
  return /^1[3-9]\d{9}$/.test(d) ? d : null;
}

export function maskPhone(phone) {
  const d = String(phone || '').replace(/\D/g, '').slice(-11);
  return d.length === 11 ? `${d.slice(0, 3)}****${d.slice(7)}` : String(phone || '');
}

/** '?a=1&b=x' from an object, leaving out empty values (the API rejects `q=`). */
export function qs(params) {
  const parts = Object.entries(params)
    .filter(([, v]) => v != null && v !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** ISO time or epoch (s or ms) → ms since epoch, or NaN. */
export function toMs(v) {
  if (typeof v === 'number') return v < 1e11 ? v * 1000 : v;
  return Date.parse(v);
}

// ---------------------------------------------------------------- money

/**
 * The largest amount the server takes anywhere (asked for, granted, paid, handed
 * over in a visit): 100,000 yuan, MAX_AMOUNT_FEN in cases/dto.rs and campaigns/dto.rs.
 */
export const MAX_FEN = 10000000;

/**
 * Yuan as typed ('1500', '1,500.5', '１５００元', '.5') → integer fen in
 * min..=MAX_FEN, or null. At most two decimals; split at the point, never parsed
 * as a float, so 0.29 stays 29 fen. The server's lower bound is 1 fen except for
 * the amount granted, which may be 0.
 */
export function parseYuan(raw, min = 1) {
  const s = asciiDigits(String(raw == null ? '' : raw)).replace(/[\s,，元¥￥]/g, '').replace(/[。．]/g, '.');
  const m = /^(\d{0,9})(?:\.(\d{0,2}))?$/.exec(s);
  if (!m || (!m[1] && !m[2])) return null;
  const fen = Number(m[1] || '0') * 100 + Number((m[2] || '').padEnd(2, '0'));
  return fen >= min && fen <= MAX_FEN ? fen : null;
}

/**
 * Integer fen → '1,234.5' style: '1,234.50' grouped, '1234.50' not (for an input,
 * and the worker's screens); 50000 → '500'. No float arithmetic.
 */
export function fenToYuan(fen, grouped = true) {
  if (!Number.isSafeInteger(fen)) return '—';
  const abs = Math.abs(fen);
  let whole = String(Math.floor(abs / 100));
  if (grouped) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = abs % 100;
  return `${fen < 0 ? '-' : ''}${whole}${cents ? `.${String(cents).padStart(2, '0')}` : ''}`;
}

// ---------------------------------------------------------------- session and storage

/** sessionStorage key of a join started before login: only the public join code. */
export const PENDING_JOIN = 'qunjia.pendingJoin';

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

// ---------------------------------------------------------------- downloads

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

// ---------------------------------------------------------------- closed lists

export const ORG_TYPES = ['union', 'league', 'women'];
export const ORG_FORMS = ['single', 'joint', 'regional', 'industry', 'online'];
export const UNIT_KINDS = ['enterprise', 'social_org', 'association', 'platform'];
export const ACTIVITY_KINDS = ['lecture', 'culture', 'competition', 'service', 'volunteer', 'meeting', 'other'];
export const KINDS = ['legal_aid', 'counseling', 'employment', 'matchmaking', 'hardship', 'rights'];
export const STATUSES = ['submitted', 'accepted', 'in_progress', 'resolved', 'closed', 'rejected', 'withdrawn'];
/** Statuses after which nothing more can be added to a case. */
export const ENDED = ['withdrawn', 'closed', 'rejected'];
export const CATEGORIES = ['illness', 'accident', 'family', 'disaster', 'holiday_visit', 'other'];
export const CLASSES = ['deep', 'relative', 'sudden'];
export const METHODS = ['cash', 'bank_transfer', 'mobile', 'goods'];
export const OCCASIONS = ['spring_festival', 'mid_autumn', 'dragon_boat', 'other'];
export const FORMS = ['money', 'goods', 'both'];

/** i18n key of a value from a closed list, or null for an unknown one. */
export function enumKey(prefix, list, value) {
  return list.includes(value) ? `${prefix}.${value}` : null;
}

/** A label for a value from a closed list; an unknown value is shown as it is. */
export function label(prefix, list, value, props = {}) {
  return list.includes(value) ? h('span', { ...props, i18n: `${prefix}.${value}` }) : h('span', props, String(value ?? '—'));
}

export function options(prefix, list, selected) {
  return list.map((v) => h('option', { value: v, selected: v === selected, i18n: `${prefix}.${v}` }));
}

export function field(id, key, input) {
  return [h('label', { for: id, i18n: key }), input];
}

// ---------------------------------------------------------------- badges

/** A service's kind (the worker's wording, svc.kind.*); nothing for an unknown kind. */
export function kindBadge(kind) {
  return KINDS.includes(kind) ? h('span', { class: 'badge', i18n: `svc.kind.${kind}` }) : null;
}

/**
 * A case's status. The worker's screens ('case', the default) show it as coloured
 * text in their words (已提交 / Sent); the officer's ('oc') as a pill in theirs.
 */
export function statusBadge(status, id, table = 'case') {
  let cls;
  if (table === 'oc') cls = `oc-status oc-status-${STATUSES.includes(status) ? status : 'other'}`;
  else if (status === 'rejected') cls = 'state case-status state-rejected';
  else if (status === 'resolved' || status === 'closed') cls = 'state case-status state-active';
  else cls = 'state case-status';
  return label(`${table}.status`, STATUSES, status, { id, class: cls, 'data-status': status });
}

// ---------------------------------------------------------------- officer screens

/** The stylesheet of the officer's case and campaign screens: not in the shell's style.css, which every phone caches. */
export function loadCss() {
  if (document.querySelector('link[href="/officer-cases.css"]')) return;
  document.head.append(h('link', { rel: 'stylesheet', href: '/officer-cases.css' }));
}

const ORG_KEY = 'qunjia.officerOrg';

function remembered() {
  const asked = new URLSearchParams(location.search).get('org');
  if (/^\d+$/.test(asked || '')) return Number(asked);
  try {
    return Number(sessionStorage.getItem(ORG_KEY)) || null;
  } catch {
    return null;
  }
}

/** Orgs the user runs (org_admin); with regions, also the orgs of their admin regions (first 100 of each). */
export async function myOrgs(user, regions = false) {
  const byId = new Map();
  const direct = scopeIds(user, 'org_admin', 'org');
  const got = await Promise.all(direct.map((id) => api.get(`/orgs/${id}`).catch(() => ({ id, name: `#${id}` }))));
  for (const o of got) byId.set(o.id, o);
  if (regions) {
    for (const rid of scopeIds(user, 'admin', 'region')) {
      const page = await api.get(`/orgs?region_id=${rid}&limit=100`);
      for (const o of page.items || []) if (!byId.has(o.id)) byId.set(o.id, o);
    }
  }
  return [...byId.values()];
}

/**
 * The org picker: a <select> with several orgs, the name with one. Calls
 * onOrg(org) with the org in ?org= (or the one chosen last, or the first),
 * then on every change, keeping ?org= in the address for a reload.
 */
export function orgPicker(orgs, onOrg) {
  const want = remembered();
  const current = orgs.find((o) => o.id === want) || orgs[0];
  const pick = (org) => {
    try {
      sessionStorage.setItem(ORG_KEY, String(org.id));
    } catch {
      // Not remembered; the picker still works.
    }
    const url = new URL(location.href);
    url.searchParams.set('org', org.id);
    history.replaceState(null, '', url.pathname + url.search);
    onOrg(org);
  };
  let el;
  if (orgs.length === 1) {
    el = h('p', { id: 'oc-org-name', class: 'chosen' }, current.name);
  } else {
    const select = h('select', { id: 'oc-org' }, ...orgs.map((o) => h('option', { value: o.id, selected: o === current }, o.name)));
    select.addEventListener('change', () => pick(orgs.find((o) => String(o.id) === select.value)));
    el = h('div', {}, ...field('oc-org', 'oc.org', select));
  }
  queueMicrotask(() => pick(current));
  return el;
}

/**
 * Appends a page's items to `ul` and, while there is a next_cursor, a
 * 加载更多 button under `box` that fetches the next page of `base`.
 */
export function pager(box, ul, base, page, drawItem, onCount) {
  let shown = 0;
  const add = (p) => {
    for (const item of p.items || []) ul.append(drawItem(item));
    shown += (p.items || []).length;
    if (onCount) onCount(shown);
    if (!p.next_cursor) return;
    const more = h('button', { type: 'button', class: 'more', i18n: 'oc.more' });
    const error = h('p', { class: 'error', role: 'alert' });
    more.addEventListener('click', () => busy(more, async () => {
      try {
        const next = await api.get(`${base}${base.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(p.next_cursor)}`);
        more.remove();
        error.remove();
        add(next);
      } catch (err) {
        showError(error, err, 'oc');
      }
    }));
    box.append(more, error);
  };
  add(page);
}

/** A campaign's progress: done/households as text and a bar, money and goods totals. */
export function progress(c) {
  const done = c.done || 0;
  const households = c.households || 0;
  return h('div', { class: 'camp-progress' },
    h('p', { class: 'oc-big camp-count', i18n: 'oc.camp.progress', args: { done, households } }),
    h('progress', { class: 'oc-bar', max: String(Math.max(1, households)), value: String(done) }),
    h('p', { class: 'oc-line' },
      h('span', { class: 'camp-money', i18n: 'oc.camp.money', args: { amount: fenToYuan(Number.isSafeInteger(c.money_fen) ? c.money_fen : 0) } }),
      h('span', { class: 'camp-goods', i18n: 'oc.camp.goods', args: { n: c.goods_count || 0 } })));
}
