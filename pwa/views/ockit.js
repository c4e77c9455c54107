// Shared by the officer screens for services, cases and holiday campaigns:
// money in 元, status badges, error wording and the organization picker.
import '../i18n/officer-cases.js';
import * as api from '../api.js';
import { t, setText, clearText, errorKey } from '../i18n/index.js';
import { h, empty, asciiDigits, busy, scopeIds } from './ui.js';

export const KINDS = ['legal_aid', 'counseling', 'employment', 'matchmaking', 'hardship', 'rights'];
export const STATUSES = ['submitted', 'accepted', 'in_progress', 'resolved', 'closed', 'rejected', 'withdrawn'];
export const CATEGORIES = ['illness', 'accident', 'family', 'disaster', 'holiday_visit', 'other'];
export const CLASSES = ['deep', 'relative', 'sudden'];
export const METHODS = ['cash', 'bank_transfer', 'mobile', 'goods'];
export const OCCASIONS = ['spring_festival', 'mid_autumn', 'dragon_boat', 'other'];
export const FORMS = ['money', 'goods', 'both'];

/** This feature's stylesheet: not in the shell's style.css, which every phone caches. */
export function loadCss() {
  if (document.querySelector('link[href="/officer-cases.css"]')) return;
  document.head.append(h('link', { rel: 'stylesheet', href: '/officer-cases.css' }));
}

/** An API error in plain words; the server's own zh-CN message for codes we have no words for. */
export function showError(el, err) {
  const code = (err && err.code) || 'generic';
  if (t(`oc.err.${code}`) !== `oc.err.${code}`) {
    setText(el, `oc.err.${code}`);
    return;
  }
  const [key, params] = errorKey(err);
  if (key === 'err.generic' && err && err.message) {
    clearText(el);
    el.textContent = err.message;
  } else {
    setText(el, key, params);
  }
}

/** Integer fen → '1,234.50' (grouped) or '1234.50' (for an input), without float arithmetic. */
export function fenToYuan(fen, grouped = true) {
  if (!Number.isSafeInteger(fen)) return '—';
  const abs = Math.abs(fen);
  let whole = String(Math.floor(abs / 100));
  if (grouped) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = abs % 100;
  return `${fen < 0 ? '-' : ''}${whole}${cents ? `.${String(cents).padStart(2, '0')}` : ''}`;
}

/**
 * Yuan as typed ('1500', '1,500.5', '１５００元') → integer fen, or null.
 * Split at the point, never parsed as a float, so 0.29 stays 29 fen.
 */
export function yuanToFen(raw) {
  const s = asciiDigits(String(raw == null ? '' : raw)).replace(/[\s,，元¥￥]/g, '').replace(/[。．]/g, '.');
  const m = /^(\d{0,9})(?:\.(\d{0,2}))?$/.exec(s);
  if (!m || (!m[1] && !m[2])) return null;
  return Number(m[1] || '0') * 100 + Number((m[2] || '').padEnd(2, '0'));
}

/** A label for a value from a closed list; an unknown value is shown as it is. */
export function label(prefix, list, value, props = {}) {
  return list.includes(value) ? h('span', { ...props, i18n: `${prefix}.${value}` }) : h('span', props, String(value ?? '—'));
}

export function statusBadge(status, id) {
  const cls = `oc-status oc-status-${STATUSES.includes(status) ? status : 'other'}`;
  return label('oc.status', STATUSES, status, { id, class: cls, 'data-status': status });
}

export function options(prefix, list, selected) {
  return list.map((v) => h('option', { value: v, selected: v === selected, i18n: `${prefix}.${v}` }));
}

export function field(id, key, input) {
  return [h('label', { for: id, i18n: key }), input];
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

/** Loading line, then draw(data), or the error with a retry button. */
export async function loadInto(box, fetcher, draw) {
  empty(box).append(h('p', { class: 'muted', role: 'status', i18n: 'app.loading' }));
  let data;
  try {
    data = await fetcher();
  } catch (err) {
    const p = h('p', { class: 'error', role: 'alert' });
    showError(p, err);
    empty(box).append(p, h('button', { type: 'button', class: 'retry', i18n: 'app.retry', onclick: () => loadInto(box, fetcher, draw) }));
    return;
  }
  empty(box);
  draw(data);
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
        showError(error, err);
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
