// 找组织: organizations of my workplace or platform, each with a join button.
import * as api from '../../api.js';
import { h, busy, load, enumKey, ORG_TYPES, ORG_FORMS } from '../../kit.js';
import { join } from './join.js';

export const titleKey = 'title.findOrgs';

const MEMBER = { active: 'member.status.active', pending: 'member.status.pending' };

export function render(root, ctx) {
  const list = h('div', { id: 'suggested' });
  root.append(h('h2', { i18n: 'nav.findOrgs' }), h('p', { class: 'muted', i18n: 'findOrgs.intro' }), list);
  load(list, () => api.get('/me/orgs/suggested'), draw);

  function draw(page) {
    const items = page.items || page || [];
    if (!items.length) {
      const noWork = ctx.user.unit_id == null && !ctx.user.platform;
      list.append(h('section', { class: 'card' },
        h('p', { id: 'suggested-empty', i18n: noWork ? 'findOrgs.noWork' : 'findOrgs.empty' }),
        noWork ? h('a', { class: 'btn', href: '/', i18n: 'nav.home' }) : null));
      return;
    }
    const ul = h('ul', { class: 'items' });
    for (const org of items) ul.append(item(org));
    list.append(ul);
  }

  function item(org) {
    const typeKey = enumKey('org.type', ORG_TYPES, org.type);
    const formKey = enumKey('org.form', ORG_FORMS, org.form);
    const msg = h('p', { class: 'ok', role: 'status' });
    const error = h('p', { class: 'error', role: 'alert' });
    const memberKey = MEMBER[org.member_status];
    const button = memberKey ? null : h('button', { type: 'button', class: 'primary join', i18n: 'join.button' });
    if (button) {
      button.addEventListener('click', () => busy(button, async () => {
        if (await join(org.id, msg, error)) button.hidden = true;
      }));
    }
    return h('li', { class: 'card', 'data-org-id': org.id },
      h('h3', {}, org.name),
      h('p', {},
        typeKey ? h('span', { class: 'badge', i18n: typeKey }) : null, ' ',
        formKey ? h('span', { class: 'muted', i18n: formKey }) : null),
      memberKey ? h('p', { class: 'state', i18n: memberKey }) : null,
      button, msg, error);
  }
}
