// 单位: the register of my region — search and filter, add one, import many.
import * as api from '../../api.js';
import { setText, clearText } from '../../i18n/index.js';
import { h, empty, busy, load, showError, clearError, downloadButton, enumKey, qs, UNIT_KINDS } from '../../kit.js';
import { adminRegion, regionSelect, scopeChooser } from './admin.js';

export const titleKey = 'title.units';

const kindOptions = () => UNIT_KINDS.map((v) => h('option', { value: v, i18n: `unit.kind.${v}` }));

export function render(root, ctx) {
  const region = adminRegion(ctx.user);
  const list = h('div', { id: 'unit-list' });
  root.append(h('h2', { i18n: 'admin.units' }), scopeChooser(ctx.user, () => ctx.navigate(location.pathname, true)) || '', filterForm(), list, addForm(), importForm());
  show('', '');

  function show(q, kind) {
    const base = `/units${qs({ region_id: region, kind, q, limit: 20 })}`;
    load(list, () => api.get(base), (page) => drawPage(page, base, null));
  }

  function drawPage(page, base, ul) {
    const items = page.items || [];
    if (!ul) {
      if (!items.length) {
        list.append(h('p', { id: 'units-empty', class: 'muted', i18n: 'units.empty' }));
        return;
      }
      ul = h('ul', { class: 'items' });
      list.append(ul);
    }
    for (const u of items) {
      const kindKey = enumKey('unit.kind', UNIT_KINDS, u.kind);
      ul.append(h('li', { class: 'card', 'data-unit-id': u.id },
        h('strong', {}, u.name),
        h('p', { class: 'hint' },
          kindKey ? h('span', { i18n: kindKey }) : null, ' · ',
          h('span', { i18n: 'units.employeesShort', args: { n: u.employee_count } }), ' · ', u.uscc)));
    }
    if (page.next_cursor) {
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

  function filterForm() {
    const q = h('input', { id: 'units-q', type: 'search', enterkeyhint: 'search', i18nAttr: { placeholder: 'home.unitPh' } });
    const kind = h('select', { id: 'units-kind' }, h('option', { value: '', i18n: 'app.all' }), ...kindOptions());
    const f = h('form', { class: 'card', role: 'search' },
      h('h3', { i18n: 'units.filter' }),
      h('label', { for: 'units-q', i18n: 'app.search' }), q,
      h('label', { for: 'units-kind', i18n: 'units.kind' }), kind,
      h('button', { type: 'submit', i18n: 'app.search' }));
    f.addEventListener('submit', (e) => { e.preventDefault(); show(q.value.trim(), kind.value); });
    kind.addEventListener('change', () => show(q.value.trim(), kind.value));
    return f;
  }

  function addForm() {
    const field = (id, key, el) => [h('label', { for: id, i18n: key }), el];
    const check = (id, key) => {
      const box = h('input', { id, type: 'checkbox' });
      return [h('label', { class: 'choice', for: id }, box, h('span', { i18n: key })), box];
    };
    const name = h('input', { id: 'unit-name', type: 'text', maxlength: '200', required: true });
    const uscc = h('input', { id: 'unit-uscc', type: 'text', maxlength: '18', autocapitalize: 'characters', spellcheck: 'false', 'aria-describedby': 'unit-uscc-hint', required: true });
    const kind = h('select', { id: 'unit-kind' }, ...kindOptions());
    const regionSel = regionSelect('unit-region', ctx.user);
    const employees = h('input', { id: 'unit-employees', type: 'number', inputmode: 'numeric', min: '0', value: '0' });
    const [aboveLabel, above] = check('unit-above', 'units.aboveScale');
    const [partyLabel, party] = check('unit-party', 'units.party');
    const industry = h('input', { id: 'unit-industry', type: 'text', maxlength: '100' });
    const error = h('p', { class: 'error', role: 'alert' });
    const ok = h('p', { id: 'unit-added', class: 'ok', role: 'status' });
    const submit = h('button', { id: 'add-unit', type: 'submit', class: 'primary', i18n: 'units.add' });
    const f = h('form', { id: 'unit-form', class: 'card', novalidate: true },
      h('h3', { i18n: 'units.new' }),
      ...field('unit-name', 'units.name', name),
      ...field('unit-uscc', 'units.uscc', uscc), h('p', { id: 'unit-uscc-hint', class: 'hint', i18n: 'units.usccHint' }),
      ...field('unit-kind', 'units.kind', kind),
      ...field('unit-region', 'units.region', regionSel),
      ...field('unit-employees', 'units.employees', employees),
      aboveLabel, partyLabel,
      ...field('unit-industry', 'units.industry', industry),
      error, submit, ok);
    f.addEventListener('input', (e) => { clearText(ok); e.target.removeAttribute('aria-invalid'); });
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        clearError(error);
        clearText(ok);
        const body = {
          name: name.value.trim(), uscc: uscc.value.trim().toUpperCase(), kind: kind.value,
          region_id: Number(regionSel.value || region), employee_count: Number(employees.value || 0),
          above_scale: above.checked, has_party_org: party.checked, industry: industry.value.trim() || null,
        };
        if (!body.name) return fail({ code: 'name_required' }, name);
        if (!/^[0-9A-Z]{18}$/.test(body.uscc)) return fail({ code: 'invalid_uscc' }, uscc);
        try {
          const u = await api.post('/units', body);
          setText(ok, 'units.added', { name: u.name || body.name });
          name.value = '';
          uscc.value = '';
          industry.value = '';
          show('', '');
        } catch (err) {
          fail(err, err.code === 'invalid_uscc' || err.code === 'conflict' ? uscc : null);
        }
        return undefined;
      });
    });
    return f;

    function fail(err, input) {
      showError(error, err);
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      }
    }
  }

  function importForm() {
    const msg = h('p', { class: 'error', role: 'alert' });
    const ok = h('p', { id: 'import-ok', class: 'ok', role: 'status' });
    const regionSel = regionSelect('import-region', ctx.user);
    const file = h('input', { id: 'import-file', type: 'file', accept: '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
    const progress = h('progress', { id: 'import-progress', class: 'progress', max: '100', hidden: true });
    const rows = h('div', { id: 'import-rows' });
    const submit = h('button', { id: 'import-btn', type: 'submit', class: 'primary', i18n: 'units.upload' });
    const f = h('form', { id: 'import-form', class: 'card', novalidate: true },
      h('h3', { i18n: 'units.import' }),
      h('p', { class: 'hint', i18n: 'units.importIntro' }),
      downloadButton('template-csv', 'units.templateCsv', '/units/import-template.csv', 'units-template.csv', msg),
      downloadButton('template-xlsx', 'units.templateXlsx', '/units/import-template.xlsx', 'units-template.xlsx', msg),
      h('label', { for: 'import-region', i18n: 'units.region' }), regionSel,
      h('label', { for: 'import-file', i18n: 'units.file' }), file,
      submit, progress, ok, msg, rows);
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        clearError(msg);
        clearText(ok);
        empty(rows);
        const chosen = file.files && file.files[0];
        if (!chosen) {
          showError(msg, { code: 'file_required' });
          file.focus();
          return;
        }
        const data = new FormData();
        data.append('file', chosen, chosen.name);
        progress.hidden = false;
        progress.removeAttribute('value');
        try {
          const r = await api.upload(`/units/import?region_id=${Number(regionSel.value || region)}`, data, (p) => { progress.value = Math.round(p * 100); });
          setText(ok, 'units.imported', { n: r.imported });
          file.value = '';
          show('', '');
        } catch (err) {
          showError(msg, err);
          if (err.rows && err.rows.length) rows.append(badRows(err.rows));
        } finally {
          progress.hidden = true;
        }
      });
    });
    return f;
  }
}

const COLUMNS = ['region_code', 'name', 'uscc', 'kind', 'employee_count', 'above_scale', 'has_party_org', 'industry'];
const colKey = (c) => (COLUMNS.includes(c) ? `units.col.${c}` : null);

function badRows(items) {
  const th = (key) => h('th', { scope: 'col', i18n: key });
  return h('div', { class: 'table-wrap' },
    h('p', { i18n: 'units.badRows' }),
    h('table', { id: 'bad-rows' },
      h('thead', {}, h('tr', {}, th('units.row'), th('units.column'), th('units.reason'))),
      h('tbody', {}, ...items.map((r) => h('tr', {},
        h('td', { class: 'num' }, String(r.row ?? '')), h('td', colKey(r.column) ? { i18n: colKey(r.column) } : {}, colKey(r.column) ? null : String(r.column ?? '')), h('td', {}, String(r.reason ?? '')))))));
}
