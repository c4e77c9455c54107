// One organization for its officers: facts, join code and QR, poster link,
// and its leaders (班子成员), which its managers add and remove.
import * as api from '../../api.js';
import { setText, clearText } from '../../i18n/index.js';
import { h, add, empty, busy, load, showError, enumKey, maskPhone, ORG_TYPES, ORG_FORMS } from '../../kit.js';

export const titleKey = 'title.org';

/** Fetches the join QR (it needs the token) and shows it through a blob: URL. */
export function qrImage(orgId, urls) {
  const img = h('img', { id: 'join-qr', class: 'qr', i18nAttr: { alt: 'org.qrAlt' } });
  api.getBlob(`/orgs/${orgId}/join-qr.svg`).then((file) => {
    const url = URL.createObjectURL(file.blob);
    urls.push(url);
    img.src = url;
  }, () => { img.hidden = true; });
  return img;
}

export function render(root, ctx) {
  const id = ctx.params[0];
  const urls = [];
  const box = h('div', { id: 'org-detail' });
  root.append(box);
  load(box, () => api.get(`/orgs/${id}`), (org) => {
    const typeKey = enumKey('org.type', ORG_TYPES, org.type);
    const formKey = enumKey('org.form', ORG_FORMS, org.form);
    const link = org.join_code ? `${location.origin}/join/${org.join_code}` : null;
    add(box,
      /created=1/.test(location.search) ? h('p', { id: 'org-created', class: 'ok', role: 'status', i18n: 'orgs.created' }) : null,
      h('section', { class: 'card' },
        typeKey ? h('p', { class: 'badge', i18n: typeKey }) : null,
        h('h2', { id: 'org-name' }, org.name),
        h('dl', { class: 'facts' },
          formKey ? h('dt', { i18n: 'org.form' }) : null, formKey ? h('dd', { i18n: formKey }) : null,
          h('dt', { i18n: 'orgs.policy' }), h('dd', { i18n: org.join_policy === 'open' ? 'org.policy.open' : 'org.policy.approval' }),
          h('dt', { i18n: 'org.unitCount' }), h('dd', {}, String((org.unit_ids || []).length)),
          org.join_code ? h('dt', { i18n: 'org.joinCode' }) : null, org.join_code ? h('dd', { id: 'join-code' }, org.join_code) : null,
          link ? h('dt', { i18n: 'org.joinLink' }) : null, link ? h('dd', {}, link) : null)),
      org.join_code ? h('section', { class: 'card' },
        h('h3', { i18n: 'org.qr' }),
        qrImage(org.id, urls),
        h('a', { id: 'poster-link', class: 'btn', href: `/admin/orgs/${org.id}/poster`, i18n: 'org.poster' })) : null,
      leadersCard(org),
      h('a', { class: 'btn', href: `/admin/approvals?org=${org.id}`, i18n: 'admin.approvals' }),
      h('a', { class: 'btn', href: '/admin/orgs', i18n: 'admin.orgs' }));
  });
  return () => urls.forEach((u) => URL.revokeObjectURL(u));
}

/** Leader errors in the words of this screen; others as usual. */
function leaderError(el, err) {
  const key = { not_member: 'leaders.notMember', already_leader: 'leaders.already', invalid_position: 'leaders.badPosition' }[err && err.code];
  if (key) setText(el, key);
  else showError(el, err);
}

/**
 * 班子成员: the list for everyone; for the org's managers (who see its join
 * code) a remove button per leader and a form to add one of the active members.
 */
function leadersCard(org) {
  const manager = org.join_code != null;
  const list = h('div', { id: 'leaders' });
  const card = h('section', { class: 'card', id: 'leaders-card' }, h('h3', { i18n: 'leaders.title' }), list);
  const refresh = () => load(list, () => api.get(`/orgs/${org.id}/leaders?limit=100`), drawList);
  refresh();
  if (manager) card.append(addForm());
  return card;

  function drawList(page) {
    const items = page.items || [];
    if (!items.length) {
      list.append(h('p', { id: 'leaders-empty', class: 'muted', i18n: 'leaders.empty' }));
      return;
    }
    list.append(h('ul', { class: 'items', id: 'leader-list' }, ...items.map(leaderLine)));
  }

  function leaderLine(l) {
    const actions = h('div', { class: 'row' });
    const error = h('p', { class: 'error', role: 'alert' });
    const li = h('li', { 'data-leader-id': l.id, 'data-user-id': l.user_id },
      h('p', {}, h('strong', { class: 'position' }, l.position), ' ', h('span', { class: 'leader-name' }, l.name || '—')),
      actions, error);
    if (manager) ask();
    return li;

    function ask() {
      empty(actions).append(h('button', { type: 'button', class: 'remove-leader', i18n: 'leaders.remove', onclick: confirm }));
    }

    function confirm() {
      const yes = h('button', { type: 'button', class: 'primary confirm-remove', i18n: 'leaders.confirmYes' });
      yes.addEventListener('click', () => busy(yes, async () => {
        clearText(error);
        try {
          await api.del(`/orgs/${org.id}/leaders/${l.id}`);
          refresh();
        } catch (err) {
          leaderError(error, err);
        }
      }));
      empty(actions).append(
        h('p', { class: 'full', i18n: 'leaders.confirm', args: { name: l.name || '—', position: l.position } }),
        yes, h('button', { type: 'button', i18n: 'app.cancel', onclick: () => { clearText(error); ask(); } }));
    }
  }

  function addForm() {
    const who = h('select', { id: 'leader-user', required: true });
    const position = h('input', { id: 'leader-position', type: 'text', maxlength: '50', list: 'leader-positions', required: true, i18nAttr: { placeholder: 'leaders.positionPh' } });
    const positions = h('datalist', { id: 'leader-positions' }, ...['主席', '副主席', '委员', '经费审查委员', '女职工委员'].map((v) => h('option', { value: v })));
    const error = h('p', { class: 'error', role: 'alert' });
    const ok = h('p', { id: 'leader-added', class: 'ok', role: 'status' });
    const submit = h('button', { id: 'add-leader', type: 'submit', class: 'primary', i18n: 'leaders.add' });
    const members = h('div', { id: 'leader-members' });
    const f = h('form', { id: 'leader-form', novalidate: true },
      h('h4', { i18n: 'leaders.new' }),
      h('label', { for: 'leader-user', i18n: 'leaders.member' }), members,
      h('label', { for: 'leader-position', i18n: 'leaders.position' }), position, positions,
      error, submit, ok);
    load(members, () => api.get(`/orgs/${org.id}/members?status=active&limit=100`), (page) => {
      const items = page.items || [];
      if (!items.length) {
        members.append(h('p', { id: 'leader-no-members', class: 'muted', i18n: 'leaders.noMembers' }));
        submit.disabled = true;
        return;
      }
      who.append(h('option', { value: '', i18n: 'coverage.pick' }),
        ...items.map((m) => h('option', { value: m.user_id }, `${m.name || '—'} ${maskPhone(m.phone)}`)));
      members.append(who);
    });
    f.addEventListener('input', () => clearText(ok));
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        clearText(error);
        clearText(ok);
        const body = { user_id: Number(who.value), position: position.value.trim() };
        if (!body.user_id) {
          setText(error, 'leaders.pickMember');
          who.focus();
          return;
        }
        if (!body.position || body.position.length > 50) {
          setText(error, 'leaders.badPosition');
          position.focus();
          return;
        }
        try {
          const l = await api.post(`/orgs/${org.id}/leaders`, body);
          setText(ok, 'leaders.added', { name: l.name || '—', position: l.position });
          position.value = '';
          who.value = '';
          refresh();
        } catch (err) {
          leaderError(error, err);
        }
      });
    });
    return f;
  }
}
