// 服务: the services of my organizations, grouped by organization.
import * as api from '../../api.js';
import '../../i18n/cases.js';
import { h, load, kindBadge } from '../../kit.js';

export const titleKey = 'title.services';

export function render(root) {
  const box = h('div', { id: 'services' });
  root.append(h('h2', { i18n: 'nav.services' }),
    h('p', { class: 'muted', i18n: 'svc.intro' }),
    h('p', {}, h('a', { class: 'btn', id: 'to-cases', href: '/cases', i18n: 'svc.myCases' })),
    box);
  load(box, () => api.get('/services?mine=true&limit=100'), (page) => {
    const items = page.items || [];
    if (!items.length) {
      box.append(h('section', { class: 'card' },
        h('p', { id: 'services-empty', i18n: 'svc.empty' }),
        h('a', { class: 'btn', href: '/orgs/find', i18n: 'nav.findOrgs' })));
      return;
    }
    const groups = new Map();
    for (const s of items) {
      if (!groups.has(s.org_id)) groups.set(s.org_id, { name: s.org_name || `#${s.org_id}`, list: [] });
      groups.get(s.org_id).list.push(s);
    }
    for (const [orgId, g] of groups) {
      box.append(h('section', { class: 'org-services', 'data-org-id': orgId },
        h('h3', {}, g.name),
        h('ul', { class: 'items' }, ...g.list.map(card))));
    }
  });
}

function card(s) {
  const usable = s.can_apply !== false && s.active !== false;
  const why = s.active === false ? 'svc.inactive' : 'svc.onlyMembers';
  return h('li', { class: 'card service', 'data-id': s.id, 'data-kind': s.kind },
    h('p', {}, kindBadge(s.kind), s.members_only ? ' ' : null,
      s.members_only ? h('span', { class: 'muted', i18n: 'svc.membersOnly' }) : null),
    h('h4', {}, s.title),
    s.description ? h('p', { class: 'pre' }, s.description) : null,
    usable
      ? h('a', { class: 'btn apply', href: `/services/${s.id}/apply`, i18n: 'svc.apply' })
      : h('p', {}, h('button', { type: 'button', class: 'apply', disabled: true, i18n: 'svc.apply' }),
        h('span', { class: 'muted why', i18n: why })));
}
