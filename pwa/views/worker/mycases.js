// 我的申请: my requests for help, newest first, with their status.
import * as api from '../../api.js';
import { formatTime } from '../../i18n/index.js';
import '../../i18n/cases.js';
import { h, load, busy, showError, toMs, kindBadge, statusBadge, fenToYuan } from '../../kit.js';

export const titleKey = 'title.cases';

export function render(root) {
  const box = h('div', { id: 'cases' });
  root.append(h('h2', { i18n: 'svc.myCases' }), box);
  load(box, () => api.get('/cases?mine=true&limit=50'), (page) => {
    const items = page.items || [];
    if (!items.length) {
      box.append(h('section', { class: 'card' },
        h('p', { id: 'cases-empty', i18n: 'cases.empty' }),
        h('a', { class: 'btn', href: '/services', i18n: 'cases.toServices' })));
      return;
    }
    const ul = h('ul', { class: 'items', id: 'case-list' }, ...items.map(item));
    box.append(ul);
    more(page.next_cursor);

    function more(cursor) {
      if (!cursor) return;
      const error = h('p', { class: 'error', role: 'alert' });
      const b = h('button', { type: 'button', i18n: 'app.more' });
      b.addEventListener('click', () => busy(b, async () => {
        try {
          const next = await api.get(`/cases?mine=true&limit=50&cursor=${encodeURIComponent(cursor)}`);
          ul.append(...(next.items || []).map(item));
          b.remove();
          error.remove();
          more(next.next_cursor);
        } catch (err) {
          showError(error, err);
        }
      }));
      box.append(b, error);
    }
  });
}

function item(c) {
  return h('li', { class: 'card case', 'data-id': c.id },
    h('h3', {}, h('a', { class: 'tap', href: `/cases/${c.id}` }, c.service_title || `#${c.id}`)),
    h('p', {}, statusBadge(c.status), ' ', kindBadge(c.kind)),
    h('p', { class: 'muted' }, c.org_name || ''),
    c.amount_requested_fen ? h('p', { i18n: 'case.amount', args: { yuan: fenToYuan(c.amount_requested_fen) } }) : null,
    h('p', { class: 'muted', i18n: 'case.created', args: { time: formatTime(toMs(c.created_at)) } }));
}
