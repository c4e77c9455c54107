// /join/<code>: what a poster's QR opens. Shows the organization to anyone;
// joining needs a login, after which the router brings the person back here.
import * as api from '../../api.js';
import { setText, clearText } from '../../i18n/index.js';
import { h, busy, load, showError, enumKey, ORG_TYPES, ORG_FORMS, PENDING_JOIN } from '../../kit.js';

export const titleKey = 'title.join';

function setPending(code) {
  try {
    if (code) sessionStorage.setItem(PENDING_JOIN, code);
    else sessionStorage.removeItem(PENDING_JOIN);
  } catch {
    // Storage blocked: the person taps 加入 again after logging in.
  }
}

/**
 * Joins `orgId` and writes the outcome into `msg` (status) or `error` (alert).
 * Returns the new status, or null on failure. Shared with 找组织.
 */
export async function join(orgId, msg, error) {
  clearText(msg);
  clearText(error);
  // One key per attempt; the button stays busy, so a double tap sends once.
  try {
    const m = await api.post(`/orgs/${orgId}/join`, {}, { 'Idempotency-Key': api.newKey() });
    setText(msg, m.status === 'active' ? 'join.active' : 'join.pending');
    return m.status;
  } catch (err) {
    showError(error, err);
    error.dataset.code = err.code || '';
    return null;
  }
}

export function render(root, ctx) {
  const code = ctx.params[0];
  const box = h('div', { id: 'join-box' });
  // A join that needs a name first: a way to the form, and back here after saving.
  const toProfile = h('a', { id: 'join-profile', class: 'btn', href: '/', hidden: true, i18n: 'join.fillProfile' });
  root.append(box);
  load(box, () => api.get(`/orgs/by-code/${encodeURIComponent(code)}`, false).catch((err) => {
    if (err.code === 'not_found') return null;
    throw err;
  }), show);

  function show(org) {
    if (!org) {
      box.append(h('section', { id: 'join-missing', class: 'card' },
        h('h2', { i18n: 'join.notFound' }),
        h('p', { class: 'muted', i18n: 'join.notFoundHint' }),
        h('a', { class: 'btn', href: ctx.user ? '/orgs/find' : '/', i18n: ctx.user ? 'nav.findOrgs' : 'join.toStart' })));
      return;
    }
    const typeKey = enumKey('org.type', ORG_TYPES, org.type);
    const formKey = enumKey('org.form', ORG_FORMS, org.form);
    const units = org.unit_names || [];
    const msg = h('p', { id: 'join-status', class: 'ok big', role: 'status' });
    const after = h('p', { hidden: true }, h('a', { class: 'tap', href: '/orgs', i18n: 'join.toMine' }));
    const error = h('p', { id: 'join-error', class: 'error', role: 'alert' });
    const button = h('button', { id: 'join-btn', type: 'button', class: 'primary', i18n: 'join.button' });
    box.append(h('section', { class: 'card' },
      typeKey ? h('p', { class: 'badge', i18n: typeKey }) : null,
      h('h2', { id: 'org-name' }, org.name),
      h('dl', { class: 'facts' },
        formKey ? h('dt', { i18n: 'org.form' }) : null,
        formKey ? h('dd', { i18n: formKey }) : null,
        org.region_name ? h('dt', { i18n: 'org.region' }) : null,
        org.region_name ? h('dd', {}, org.region_name) : null,
        units.length ? h('dt', { i18n: 'org.units' }) : null,
        units.length ? h('dd', {}, units.join('、')) : null),
      h('p', { class: 'muted', i18n: org.join_policy === 'approval' ? 'join.policyApproval' : 'join.policyOpen' }),
      ctx.user ? null : h('p', { class: 'hint', i18n: 'join.loginFirst' }),
      button, msg, after, error, toProfile));

    button.addEventListener('click', () => start(org, button, msg, error, after));
    // Back from the login screen: finish what the person started.
    if (ctx.user && ctx.pendingJoin === code) {
      setPending(null);
      start(org, button, msg, error, after);
    }
  }

  function start(org, button, msg, error, after) {
    if (!ctx.user) {
      setPending(code);
      ctx.navigate('/login');
      return;
    }
    toProfile.hidden = true;
    busy(button, async () => {
      const status = await join(org.id, msg, error);
      if (status) {
        button.hidden = true;
        after.hidden = false;
      } else if (error.dataset.code === 'profile_incomplete') {
        setPending(code);
        toProfile.hidden = false;
      }
    });
  }
}
