// 服务项目 (officers): the service catalogue of an org I manage, inactive ones
// included; create a service; switch one off/on or make it members-only.
import * as api from '../../api.js';
import { setText, clearText } from '../../i18n/index.js';
import '../../i18n/officer-cases.js';
import { h, empty, busy, KINDS, loadCss, showError, label, options, field, myOrgs, orgPicker, load, pager } from '../../kit.js';

export const titleKey = 'oc.title.services';

export function render(root, ctx) {
  loadCss();
  const picker = h('div', { id: 'svc-org' });
  const list = h('div', { id: 'svc-list' });
  const formBox = h('div');
  root.append(h('h2', { i18n: 'oc.svc.list' }), picker, list, formBox);
  load(picker, () => myOrgs(ctx.user, true), (orgs) => {
    if (!orgs.length) {
      picker.append(h('p', { class: 'card', i18n: 'oc.noOrgs' }));
      return;
    }
    picker.append(orgPicker(orgs, (org) => {
      empty(formBox).append(createForm(org, () => show(org)));
      show(org);
    }));
  }, 'oc');

  function show(org) {
    const base = `/services?org_id=${org.id}&limit=50`;
    load(list, () => api.get(base), (page) => {
      if (!(page.items || []).length) {
        list.append(h('p', { id: 'svc-empty', class: 'card muted', i18n: 'oc.svc.empty' }));
        return;
      }
      const ul = h('ul', { class: 'items' });
      list.append(ul);
      pager(list, ul, base, page, serviceItem);
    }, 'oc');
  }
}

function createForm(org, done) {
  const kind = h('select', { id: 'svc-kind' }, ...options('oc.kind', KINDS, 'hardship'));
  const title = h('input', { id: 'svc-title', type: 'text', maxlength: '100', required: true, i18nAttr: { placeholder: 'oc.svc.titlePh' } });
  const desc = h('textarea', { id: 'svc-desc', maxlength: '2000', rows: '4' });
  const members = h('input', { id: 'svc-members', type: 'checkbox' });
  const ok = h('p', { class: 'ok', role: 'status' });
  const error = h('p', { class: 'error', role: 'alert' });
  const submit = h('button', { id: 'svc-submit', type: 'submit', class: 'primary', i18n: 'oc.svc.create' });
  const form = h('form', { id: 'svc-form', class: 'card', novalidate: true },
    h('h3', { i18n: 'oc.svc.new' }),
    ...field('svc-kind', 'oc.svc.kind', kind), ...field('svc-title', 'oc.svc.title', title),
    ...field('svc-desc', 'oc.svc.description', desc),
    h('label', { class: 'choice', for: 'svc-members' }, members, h('span', { i18n: 'oc.svc.membersOnly' })),
    error, submit, ok);
  form.addEventListener('input', () => clearText(ok));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, async () => {
      clearText(error);
      const body = { org_id: org.id, kind: kind.value, title: title.value.trim(), description: desc.value.trim() || null, members_only: members.checked };
      if (!body.title || body.title.length > 100) {
        setText(error, 'oc.svc.titleRequired');
        title.focus();
        return;
      }
      try {
        const s = await api.post('/services', body);
        setText(ok, 'oc.svc.created', { title: s.title || body.title });
        title.value = '';
        desc.value = '';
        members.checked = false;
        done();
      } catch (err) {
        showError(error, err, 'oc');
      }
    });
  });
  return form;
}

function serviceItem(s) {
  const li = h('li', { class: 'card', 'data-service-id': s.id });
  draw(s);
  return li;

  function draw(svc) {
    const error = h('p', { class: 'error', role: 'alert' });
    const toggle = (key, field, value) => {
      const b = h('button', { type: 'button', class: `svc-${field}`, i18n: key });
      b.addEventListener('click', () => busy(b, async () => {
        clearText(error);
        try {
          const next = await api.patch(`/services/${svc.id}`, { [field]: value });
          draw({ ...svc, ...next });
        } catch (err) {
          showError(error, err, 'oc');
        }
      }));
      return b;
    };
    empty(li).append(
      h('h3', {}, svc.title),
      h('p', { class: 'oc-line' },
        label('oc.kind', KINDS, svc.kind, { class: 'oc-kind' }),
        h('span', { class: `oc-status oc-status-${svc.active ? 'resolved' : 'withdrawn'}`, i18n: svc.active ? 'oc.svc.active' : 'oc.svc.inactive' }),
        h('span', { class: 'muted', i18n: svc.members_only ? 'oc.svc.membersOnly' : 'oc.svc.open' })),
      svc.description ? h('p', { class: 'oc-text' }, svc.description) : '',
      h('div', { class: 'oc-inline' },
        toggle(svc.active ? 'oc.svc.deactivate' : 'oc.svc.activate', 'active', !svc.active),
        toggle(svc.members_only ? 'oc.svc.makeOpen' : 'oc.svc.makeMembersOnly', 'members_only', !svc.members_only)),
      error);
  }
}
