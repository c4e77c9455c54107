// 帮扶申请 (officers): the case queue of an org I run, newest first, filtered
// by status and kind. Region admins never see cases, only counts elsewhere.
import * as api from '../../api.js';
import { formatTime, setText } from '../../i18n/index.js';
import '../../i18n/officer-cases.js';
import {
  h, empty, qs, toMs, KINDS, STATUSES, loadCss, label, statusBadge, options, field, myOrgs, orgPicker, load, pager, fenToYuan,
} from '../../kit.js';

export const titleKey = 'oc.title.cases';

export function render(root, ctx) {
  loadCss();
  const picker = h('div', { id: 'cases-org' });
  const filters = h('div');
  const count = h('p', { id: 'cases-count', class: 'hint', role: 'status' });
  const list = h('div', { id: 'case-list' });
  root.append(h('h2', { i18n: 'oc.menu.cases' }), picker, filters, count, list);
  const query = new URLSearchParams(location.search);
  const status = h('select', { id: 'cases-status' }, h('option', { value: '', i18n: 'oc.all' }), ...options('oc.status', STATUSES, query.get('status')));
  const kind = h('select', { id: 'cases-kind' }, h('option', { value: '', i18n: 'oc.all' }), ...options('oc.kind', KINDS, query.get('kind')));
  let org = null;
  load(picker, () => myOrgs(ctx.user), (orgs) => {
    if (!orgs.length) {
      picker.append(h('p', { class: 'card', i18n: 'oc.noOrgs' }));
      return;
    }
    picker.append(orgPicker(orgs, (o) => { org = o; show(); }));
    filters.append(h('div', { class: 'card oc-filters' },
      h('div', {}, ...field('cases-status', 'oc.cases.status', status)), h('div', {}, ...field('cases-kind', 'oc.cases.kind', kind))));
  }, 'oc');
  status.addEventListener('change', show);
  kind.addEventListener('change', show);

  function show() {
    if (!org) return;
    // The filters stay in the address, so "back" from a case returns to the same view.
    const url = `${location.pathname}${qs({ org: org.id, status: status.value, kind: kind.value })}`;
    history.replaceState(null, '', url);
    const base = `/cases${qs({ org_id: org.id, status: status.value, kind: kind.value, limit: 20 })}`;
    empty(count);
    load(list, () => api.get(base), (page) => {
      if (!(page.items || []).length) {
        list.append(h('p', { id: 'cases-empty', class: 'card muted', i18n: 'oc.cases.empty' }));
        return;
      }
      const ul = h('ul', { class: 'items' });
      list.append(ul);
      pager(list, ul, base, page, caseItem, (n) => setText(count, 'oc.cases.shown', { n }));
    }, 'oc');
  }
}

function caseItem(c) {
  return h('li', { 'data-case-id': c.id },
    h('a', { class: 'card oc-item', href: `/admin/cases/${c.id}` },
      h('p', { class: 'oc-line' }, statusBadge(c.status, null, 'oc'), label('oc.kind', KINDS, c.kind, { class: 'oc-kind' })),
      h('h3', {}, `${c.applicant_name || '—'} · ${c.service_title || ''}`),
      Number.isSafeInteger(c.amount_requested_fen) ? h('p', { i18n: 'oc.cases.requested', args: { amount: fenToYuan(c.amount_requested_fen) } }) : null,
      h('p', { class: 'hint', i18n: 'oc.cases.submittedAt', args: { time: formatTime(toMs(c.created_at)) } })));
}
