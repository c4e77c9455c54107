// 组织: the organizations of my region (or the ones I run), and the create form.
import * as api from '../../api.js';
import { setText, clearText } from '../../i18n/index.js';
import { h, empty, busy, load, showError, clearError, enumKey, scopeIds, qs, ORG_TYPES, ORG_FORMS } from '../../kit.js';
import { adminRegion, regionSelect, scopeChooser } from './admin.js';

export const titleKey = 'title.orgs';

export function orgLine(org) {
  const typeKey = enumKey('org.type', ORG_TYPES, org.type);
  const formKey = enumKey('org.form', ORG_FORMS, org.form);
  return h('li', { class: 'card', 'data-org-id': org.id },
    h('a', { href: `/admin/orgs/${org.id}`, class: 'org-link tap' }, h('strong', {}, org.name)),
    h('p', {},
      typeKey ? h('span', { class: 'badge', i18n: typeKey }) : null, ' ',
      formKey ? h('span', { class: 'muted', i18n: formKey }) : null));
}

export function render(root, ctx) {
  const region = adminRegion(ctx.user);
  const list = h('div', { id: 'org-list' });
  root.append(h('h2', { i18n: 'admin.orgs' }));
  const chooser = scopeChooser(ctx.user, () => ctx.navigate(location.pathname, true));
  if (chooser) root.append(chooser);
  if (region != null) root.append(createForm());
  root.append(h('h3', { i18n: 'orgs.list' }));
  if (region != null) root.append(searchForm());
  root.append(list);
  show();

  function show(q = '', type = '') {
    if (region == null) {
      // An org_admin only: the organizations named in the roles.
      load(list, () => Promise.all(scopeIds(ctx.user, 'org_admin', 'org').map((id) => api.get(`/orgs/${id}`))), (orgs) => drawPage({ items: orgs }));
      return;
    }
    const base = `/orgs${qs({ region_id: region, q, type, limit: 20 })}`;
    load(list, () => api.get(base), (page) => drawPage(page, base));
  }

  function drawPage(page, base, ul = null) {
    const items = page.items || [];
    if (!ul) {
      if (!items.length) {
        list.append(h('p', { id: 'orgs-empty', class: 'muted', i18n: 'orgs.empty' }));
        return;
      }
      ul = h('ul', { class: 'items' });
      list.append(ul);
    }
    for (const org of items) ul.append(orgLine(org));
    if (page.next_cursor && base) {
      const more = h('button', { type: 'button', class: 'more', i18n: 'app.more' });
      const error = h('p', { class: 'error', role: 'alert' });
      more.addEventListener('click', () => busy(more, async () => {
        try {
          const next = await api.get(`${base}&cursor=${encodeURIComponent(page.next_cursor)}`);
          more.remove();
          error.remove();
          drawPage(next, base, ul);
        } catch (err) {
          showError(error, err);
        }
      }));
      list.append(more, error);
    }
  }

  function searchForm() {
    const q = h('input', { id: 'org-q', type: 'search', enterkeyhint: 'search', i18nAttr: { placeholder: 'orgs.searchPh' } });
    const type = h('select', { id: 'org-type-filter' }, h('option', { value: '', i18n: 'app.all' }),
      ...ORG_TYPES.map((v) => h('option', { value: v, i18n: `org.type.${v}` })));
    const form = h('form', { class: 'card', role: 'search' },
      h('label', { for: 'org-q', i18n: 'app.search' }), q,
      h('label', { for: 'org-type-filter', i18n: 'orgs.type' }), type,
      h('button', { type: 'submit', i18n: 'app.search' }));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      show(q.value.trim(), type.value);
    });
    return form;
  }

  function createForm() {
    const chosen = new Map();
    const name = h('input', { id: 'new-org-name', type: 'text', maxlength: '200', required: true });
    const type = h('select', { id: 'new-org-type' }, ...ORG_TYPES.map((v) => h('option', { value: v, i18n: `org.type.${v}` })));
    const form = h('select', { id: 'new-org-form' }, ...ORG_FORMS.map((v) => h('option', { value: v, i18n: `org.form.${v}` })));
    const policy = h('select', { id: 'new-org-policy' },
      h('option', { value: 'approval', i18n: 'org.policy.approval' }),
      h('option', { value: 'open', i18n: 'org.policy.open' }));
    const regionSel = regionSelect('new-org-region', ctx.user);
    const unitQ = h('input', { id: 'unit-q', type: 'search', autocomplete: 'off', enterkeyhint: 'search', 'aria-describedby': 'unit-q-hint', i18nAttr: { placeholder: 'home.unitPh' } });
    const results = h('ul', { id: 'unit-pick-results', class: 'results' });
    const chips = h('ul', { id: 'unit-chosen', class: 'chips', 'aria-live': 'polite' });
    const status = h('p', { class: 'muted', role: 'status' });
    const error = h('p', { class: 'error', role: 'alert' });
    const submit = h('button', { id: 'create-org', type: 'submit', class: 'primary', i18n: 'orgs.create' });
    const f = h('form', { id: 'org-form', class: 'card', novalidate: true },
      h('h3', { i18n: 'orgs.new' }),
      h('label', { for: 'new-org-name', i18n: 'orgs.name' }), name,
      h('label', { for: 'new-org-type', i18n: 'orgs.type' }), type,
      h('label', { for: 'new-org-form', i18n: 'org.form' }), form,
      h('label', { for: 'new-org-policy', i18n: 'orgs.policy' }), policy,
      h('label', { for: 'new-org-region', i18n: 'org.region' }), regionSel,
      h('label', { for: 'unit-q', i18n: 'org.units' }), unitQ,
      h('p', { id: 'unit-q-hint', class: 'hint', i18n: 'orgs.unitHint' }),
      status, results, chips, error, submit);

    let timer = 0;
    let seq = 0;
    unitQ.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 400); });
    unitQ.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); clearTimeout(timer); search(); }
    });

    async function search() {
      const q = unitQ.value.trim();
      const mine = ++seq;
      empty(results);
      clearText(status);
      if (!q) return;
      setText(status, 'home.searching');
      try {
        const page = await api.get(`/units${qs({ region_id: region, q, limit: 20 })}`);
        if (mine !== seq) return;
        clearText(status);
        if (!(page.items || []).length) setText(status, 'home.unitEmpty');
        for (const u of page.items || []) {
          const b = h('button', { type: 'button', class: 'result', 'aria-pressed': chosen.has(u.id) ? 'true' : 'false', 'data-unit-id': u.id }, u.name);
          b.addEventListener('click', () => {
            if (chosen.has(u.id)) chosen.delete(u.id);
            else chosen.set(u.id, u.name);
            b.setAttribute('aria-pressed', chosen.has(u.id) ? 'true' : 'false');
            drawChips();
          });
          results.append(h('li', {}, b));
        }
      } catch (err) {
        if (mine === seq) { clearText(status); showError(error, err); }
      }
    }

    function drawChips() {
      empty(chips);
      for (const [id, n] of chosen) {
        chips.append(h('li', {}, h('button', {
          type: 'button', 'data-unit-id': id, i18nAttr: { 'aria-label': 'orgs.removeUnit' },
          onclick: () => { chosen.delete(id); drawChips(); search(); },
        }, `${n} ✕`)));
      }
    }

    f.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        clearError(error);
        if (!name.value.trim()) {
          showError(error, { code: 'name_required' });
          name.setAttribute('aria-invalid', 'true');
          name.focus();
          return;
        }
        try {
          const org = await api.post('/orgs', {
            name: name.value.trim(), type: type.value, form: form.value, region_id: Number(regionSel.value || region),
            unit_ids: [...chosen.keys()], join_policy: policy.value,
          });
          ctx.navigate(`/admin/orgs/${org.id}?created=1`);
        } catch (err) {
          showError(error, err);
        }
      });
    });
    return f;
  }
}
