// 入会审核: pending members of the organizations this officer runs.
import * as api from '../api.js';
import { setText, formatTime } from '../i18n.js';
import { h, empty, busy, load, showError, clearError, scopeIds } from './ui.js';

export const titleKey = 'title.approvals';

export function render(root, ctx) {
  const box = h('div', { id: 'approvals' });
  root.append(h('h2', { i18n: 'admin.approvals' }), box);
  const orgIds = scopeIds(ctx.user, 'org_admin', 'org');
  load(box, () => Promise.all(orgIds.map(async (id) => {
    const [org, page] = await Promise.all([api.get(`/orgs/${id}`), api.get(`/orgs/${id}/members?status=pending&limit=100`)]);
    return { org, items: page.items || [] };
  })), draw);

  function draw(groups) {
    const withItems = groups.filter((g) => g.items.length);
    if (!withItems.length) {
      box.append(h('p', { id: 'approvals-empty', class: 'card', i18n: 'approvals.empty' }));
      return;
    }
    for (const { org, items } of withItems) {
      box.append(h('h3', {}, org.name), h('ul', { class: 'items' }, ...items.map(item)));
    }
  }

  function item(m) {
    const error = h('p', { class: 'error', role: 'alert' });
    const done = h('p', { class: 'ok', role: 'status' });
    const actions = h('div', { class: 'row' });
    const li = h('li', { class: 'card', 'data-membership-id': m.id },
      h('p', { class: 'chosen' }, m.name || '—', ' ', h('span', { class: 'muted' }, m.phone || '')),
      m.requested_at ? h('p', { class: 'hint', i18n: 'approvals.requested', args: { time: formatTime(m.requested_at) } }) : null,
      actions, done, error);
    choose();
    return li;

    function choose() {
      const ok = h('button', { type: 'button', class: 'primary approve', i18n: 'approvals.approve' });
      ok.addEventListener('click', () => busy(ok, () => decide('approve', {}, 'approvals.approved')));
      empty(actions).append(ok, h('button', { type: 'button', class: 'reject', i18n: 'approvals.reject', onclick: askReason }));
    }

    function askReason() {
      const id = `reason-${m.id}`;
      const input = h('input', { id, type: 'text', maxlength: '200', required: true });
      const yes = h('button', { type: 'button', class: 'primary confirm-reject', i18n: 'approvals.confirmReject' });
      yes.addEventListener('click', () => busy(yes, async () => {
        const reason = input.value.trim();
        if (!reason) {
          showError(error, { code: 'reason_required' });
          input.setAttribute('aria-invalid', 'true');
          input.focus();
          return;
        }
        await decide('reject', { reason }, 'approvals.rejected');
      }));
      empty(actions).append(
        h('label', { for: id, class: 'full', i18n: 'approvals.reason' }), input, yes,
        h('button', { type: 'button', i18n: 'app.cancel', onclick: () => { clearError(error); choose(); } }));
      input.focus();
    }

    async function decide(action, body, doneKey) {
      clearError(error);
      try {
        await api.post(`/memberships/${m.id}/${action}`, body);
        empty(actions);
        setText(done, doneKey);
      } catch (err) {
        showError(error, err);
      }
    }
  }
}
