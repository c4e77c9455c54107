// 我的组织: my memberships with their status; leaving asks for confirmation first.
import * as api from '../../api.js';
import { setText } from '../../i18n/index.js';
import { h, empty, busy, load, showError, clearError, enumKey, ORG_TYPES } from '../../kit.js';

export const titleKey = 'title.myOrgs';

const STATUSES = ['active', 'pending', 'rejected', 'left', 'removed'];

export function orgNameOf(m) {
  return m.org_name || (m.org && m.org.name) || `#${m.org_id}`;
}

export function render(root) {
  const list = h('div', { id: 'my-orgs' });
  const done = h('p', { id: 'my-orgs-status', class: 'ok', role: 'status' });
  root.append(h('h2', { i18n: 'nav.myOrgs' }), done, list);
  load(list, () => api.get('/me/memberships'), draw);

  function draw(page) {
    const items = (page.items || page || []).filter((m) => m.status === 'active' || m.status === 'pending' || m.status === 'rejected');
    if (!items.length) {
      list.append(h('section', { class: 'card' },
        h('p', { id: 'my-orgs-empty', i18n: 'myOrgs.empty' }),
        h('a', { class: 'btn', href: '/orgs/find', i18n: 'nav.findOrgs' })));
      return;
    }
    const ul = h('ul', { class: 'items' });
    for (const m of items) ul.append(item(m));
    list.append(ul);
  }

  function item(m) {
    const name = orgNameOf(m);
    const type = m.org_type || m.type || (m.org && m.org.type);
    const typeKey = enumKey('org.type', ORG_TYPES, type);
    const statusKey = enumKey('member.status', STATUSES, m.status);
    const error = h('p', { class: 'error', role: 'alert' });
    const actions = h('div', { class: 'row' });
    const li = h('li', { class: 'card', 'data-membership-id': m.id },
      h('h3', {}, name),
      h('p', {},
        typeKey ? h('span', { class: 'badge', i18n: typeKey }) : null, ' ',
        statusKey ? h('span', { class: `state state-${m.status}`, i18n: statusKey }) : null),
      m.status === 'rejected' && m.reason ? h('p', { class: 'muted' }, m.reason) : null,
      actions, error);
    if (m.status === 'active' || m.status === 'pending') askLeave();
    return li;

    function askLeave() {
      empty(actions).append(h('button', {
        type: 'button', class: 'leave', i18n: m.status === 'pending' ? 'myOrgs.withdraw' : 'myOrgs.leave', onclick: confirmLeave,
      }));
    }

    function confirmLeave() {
      const yes = h('button', { type: 'button', class: 'primary confirm-leave', i18n: 'myOrgs.confirmYes' });
      const prompt = h('p', { class: 'confirm', role: 'alert', i18n: 'myOrgs.confirm', args: { name } });
      empty(actions).append(prompt, yes, h('button', { type: 'button', i18n: 'app.cancel', onclick: askLeave }));
      yes.focus();
      yes.addEventListener('click', () => busy(yes, async () => {
        clearError(error);
        try {
          await api.del(`/memberships/${m.id}`);
          li.remove();
          setText(done, 'myOrgs.left', { name });
          if (!list.querySelector('li')) draw({ items: [] });
        } catch (err) {
          showError(error, err);
        }
      }));
    }
  }
}
