// 审计日志 (region admins): the append-only log of admin actions and of reads of
// others' private data in my regions, newest first, filtered, and as CSV.
import * as api from '../../api.js';
import { formatTime, setText, clearText } from '../../i18n/index.js';
import '../../i18n/officer-cases.js';
import '../../i18n/audit.js';
import { h, empty, busy, qs, toMs, asciiDigits, field, load, pager, saveBlob, showError, scopeIds, loadCss } from '../../kit.js';

export const titleKey = 'au.title';

/** Action prefixes the filter offers (the API takes a prefix ending in "."). */
const KINDS = ['role.', 'region.', 'unit.', 'org.', 'membership.', 'centre.', 'activity.', 'checkin.', 'service.', 'case.', 'campaign.'];

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function kindOf(action) {
  return KINDS.find((k) => String(action).startsWith(k)) || null;
}

function entryItem(e) {
  const kind = kindOf(e.action);
  const who = e.actor_id == null
    ? h('span', { i18n: 'au.cli' })
    : h('span', {}, e.actor_name ? `${e.actor_name} (#${e.actor_id})` : `#${e.actor_id}`);
  const detail = e.detail == null ? null : JSON.stringify(e.detail);
  return h('li', { class: 'card', 'data-audit-id': e.id },
    h('p', { class: 'oc-line' },
      kind ? h('strong', { i18n: `au.kind.${kind}` }) : null,
      h('code', { class: 'audit-action' }, e.action)),
    h('p', { class: 'hint' }, formatTime(toMs(e.at)), ' · ', who),
    h('p', { class: 'audit-target', i18n: 'au.target', args: { target: e.target } }),
    h('p', { class: 'hint' },
      e.region_id == null ? null : h('span', { i18n: 'au.region', args: { id: e.region_id } }),
      e.region_id != null && e.ip ? ' · ' : null,
      e.ip ? h('span', { i18n: 'au.ip', args: { ip: e.ip } }) : null),
    detail ? h('p', { class: 'hint pre audit-detail' }, h('span', { i18n: 'au.detail' }), `: ${detail}`) : null);
}

export function render(root, ctx) {
  loadCss();
  root.append(h('h2', { i18n: 'au.menu' }));
  if (!scopeIds(ctx.user, 'admin', 'region').length) {
    root.append(h('p', { id: 'audit-denied', class: 'card', i18n: 'au.onlyAdmins' }));
    return;
  }
  const asked = new URLSearchParams(location.search);
  const action = h('select', { id: 'audit-action' },
    h('option', { value: '', i18n: 'oc.all' }),
    ...KINDS.map((k) => h('option', { value: k, selected: asked.get('action') === k, i18n: `au.kind.${k}` })));
  const actor = h('input', {
    id: 'audit-actor', type: 'text', inputmode: 'numeric', autocomplete: 'off', maxlength: '18',
    i18nAttr: { placeholder: 'au.actorPh' }, value: asked.get('actor_id') || '',
  });
  const from = h('input', { id: 'audit-from', type: 'date', value: DATE.test(asked.get('from') || '') ? asked.get('from') : '' });
  const to = h('input', { id: 'audit-to', type: 'date', value: DATE.test(asked.get('to') || '') ? asked.get('to') : '' });
  const error = h('p', { id: 'audit-error', class: 'error', role: 'alert' });
  const count = h('p', { id: 'audit-count', class: 'hint', role: 'status' });
  const list = h('div', { id: 'audit-list' });
  const exportMsg = h('p', { class: 'error', role: 'alert' });
  // The CSV of exactly the filters shown (none when one of them is not valid).
  const exportButton = h('button', { id: 'audit-csv', type: 'button', i18n: 'au.export' });
  exportButton.addEventListener('click', () => busy(exportButton, async () => {
    clearText(exportMsg);
    const f = filters();
    if (!f) return;
    try {
      saveBlob(await api.getBlob(`/audit.csv${qs(f)}`), 'audit.csv');
    } catch (err) {
      showError(exportMsg, err, 'oc');
    }
  }));

  // The filters as the API takes them; null when one is not valid (said in `error`).
  function filters() {
    clearText(error);
    actor.removeAttribute('aria-invalid');
    from.removeAttribute('aria-invalid');
    const id = asciiDigits(actor.value).trim();
    if (id && !/^\d{1,18}$/.test(id)) {
      setText(error, 'au.err.actor');
      actor.setAttribute('aria-invalid', 'true');
      return null;
    }
    if (from.value && to.value && from.value > to.value) {
      setText(error, 'au.err.dates');
      from.setAttribute('aria-invalid', 'true');
      return null;
    }
    return { action: action.value, actor_id: id, from: from.value, to: to.value };
  }

  const form = h('form', { id: 'audit-filters', class: 'card', role: 'search', novalidate: true },
    h('h3', { i18n: 'au.filter' }),
    ...field('audit-action', 'au.action', action),
    ...field('audit-actor', 'au.actor', actor),
    ...field('audit-from', 'au.from', from),
    ...field('audit-to', 'au.to', to),
    error,
    h('button', { id: 'audit-search', type: 'submit', class: 'primary', i18n: 'au.search' }),
    exportButton,
    exportMsg);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    show();
  });
  action.addEventListener('change', show);
  root.append(h('p', { class: 'hint', i18n: 'au.hint' }), form, count, list);
  show();

  function show() {
    const f = filters();
    if (!f) return;
    // The filters stay in the address, so a reload shows the same view.
    history.replaceState(null, '', `${location.pathname}${qs(f)}`);
    const base = `/audit${qs({ ...f, limit: 20 })}`;
    empty(count);
    load(list, () => api.get(base), (page) => {
      if (!(page.items || []).length) {
        list.append(h('p', { id: 'audit-empty', class: 'card muted', i18n: 'au.empty' }));
        return;
      }
      const ul = h('ul', { class: 'items', id: 'audit-items' });
      list.append(ul);
      pager(list, ul, base, page, entryItem, (n) => setText(count, 'au.shown', { n }));
    }, 'oc');
  }
}
