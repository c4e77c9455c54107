// 节日慰问 (officers): the holiday visit campaigns of an org I run, and a new
// one — the server lists the org's hardship households as visits.
import * as api from '../../api.js';
import { setText, clearText } from '../../i18n/index.js';
import '../../i18n/officer-cases.js';
import {
  h, empty, busy, OCCASIONS, loadCss, showError, label, options, field, myOrgs, orgPicker, load, pager, progress,
} from '../../kit.js';

export const titleKey = 'oc.title.campaigns';

export function render(root, ctx) {
  loadCss();
  const picker = h('div', { id: 'camp-org' });
  const formBox = h('div');
  const list = h('div', { id: 'camp-list' });
  root.append(h('h2', { i18n: 'oc.menu.campaigns' }), picker, formBox, h('h3', { i18n: 'oc.camp.list' }), list);
  load(picker, () => myOrgs(ctx.user), (orgs) => {
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
    const base = `/campaigns?org_id=${org.id}&limit=50`;
    load(list, () => api.get(base), (page) => {
      if (!(page.items || []).length) {
        list.append(h('p', { id: 'camp-empty', class: 'muted', i18n: 'oc.camp.empty' }));
        return;
      }
      const ul = h('ul', { class: 'items' });
      list.append(ul);
      pager(list, ul, base, page, campaignItem);
    }, 'oc');
  }
}

function createForm(org, done) {
  const title = h('input', { id: 'camp-title', type: 'text', maxlength: '100', required: true, i18nAttr: { placeholder: 'oc.camp.titlePh' } });
  const occasion = h('select', { id: 'camp-occasion' }, ...options('oc.occ', OCCASIONS, 'spring_festival'));
  const ok = h('p', { id: 'camp-created', class: 'ok', role: 'status' });
  const error = h('p', { id: 'camp-error', class: 'error', role: 'alert' });
  const submit = h('button', { id: 'camp-submit', type: 'submit', class: 'primary', i18n: 'oc.camp.create' });
  const form = h('form', { id: 'camp-form', class: 'card', novalidate: true },
    h('h3', { i18n: 'oc.camp.new' }), h('p', { class: 'hint', i18n: 'oc.camp.intro' }),
    ...field('camp-title', 'oc.camp.title', title), ...field('camp-occasion', 'oc.camp.occasion', occasion),
    error, submit, ok);
  // One key per filled-in form: a retry after a lost answer makes no second campaign.
  let key = api.newKey();
  form.addEventListener('input', () => { key = api.newKey(); clearText(ok); });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, async () => {
      clearText(error);
      const body = { org_id: org.id, title: title.value.trim(), occasion: occasion.value };
      if (!body.title || body.title.length > 100) {
        setText(error, 'oc.camp.titleRequired');
        title.focus();
        return;
      }
      try {
        const c = await api.post('/campaigns', body, { 'Idempotency-Key': key });
        setText(ok, 'oc.camp.created', { n: c.households });
        title.value = '';
        key = api.newKey();
        done();
      } catch (err) {
        showError(error, err, 'oc');
      }
    });
  });
  return form;
}

function campaignItem(c) {
  return h('li', { 'data-campaign-id': c.id },
    h('a', { class: 'card oc-item', href: `/admin/campaigns/${c.id}` },
      h('p', { class: 'oc-line' }, label('oc.occ', OCCASIONS, c.occasion, { class: 'badge' }),
        h('span', { class: `oc-status oc-status-${c.status === 'closed' ? 'closed' : 'accepted'}`, i18n: c.status === 'closed' ? 'oc.camp.closed' : 'oc.camp.open' })),
      h('h3', {}, c.title),
      progress(c)));
}
