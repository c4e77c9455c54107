// 覆盖率: coverage per region against 应建尽建, the gap list and the ledgers.
import * as api from '../../api.js';
import { setAttrs } from '../../i18n/index.js';
import { h, empty, busy, load, showError, clearError, downloadButton, enumKey, UNIT_KINDS } from '../../kit.js';
import { adminRegion, scopeChooser } from './admin.js';

export const titleKey = 'title.coverage';

const SVG = 'http://www.w3.org/2000/svg';

function pct(row) {
  return row.required ? `${Math.round(row.rate * 1000) / 10}%` : '—';
}

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text != null) el.textContent = text;
  return el;
}

/** Horizontal bars of the rate per child region, drawn with DOM calls (no library). */
export function rateChart(rows) {
  const rowH = 28;
  const labelW = 96;
  const barW = 180;
  const width = labelW + barW + 54;
  const chart = svg('svg', {
    id: 'coverage-chart', class: 'chart', viewBox: `0 0 ${width} ${rows.length * rowH + 4}`, role: 'img',
  });
  setAttrs(chart, { 'aria-label': 'coverage.chart' });
  rows.forEach((row, i) => {
    const y = i * rowH + 4;
    const name = row.name.length > 7 ? `${row.name.slice(0, 6)}…` : row.name;
    const g = svg('g', { class: 'row' });
    g.append(
      svg('title', {}, `${row.name} ${pct(row)}`),
      svg('text', { x: 0, y: y + 15 }, name),
      svg('rect', { class: 'track', x: labelW, y, width: barW, height: 20, rx: 3 }),
      svg('rect', { class: 'bar', x: labelW, y, width: Math.round(barW * Math.max(0, Math.min(1, row.required ? row.rate : 0))), height: 20, rx: 3 }),
      svg('text', { x: labelW + barW + 6, y: y + 15 }, pct(row)));
    chart.append(g);
  });
  return chart;
}

export function render(root, ctx) {
  // The path from the admin's own region down to the one shown.
  const trail = [];
  const crumbs = h('ol', { id: 'crumbs', class: 'crumbs', i18nAttr: { 'aria-label': 'coverage.region' } });
  const picker = h('div', { id: 'region-picker' });
  const stats = h('div', { id: 'coverage' });
  const gaps = h('div', { id: 'gaps' });
  const msg = h('p', { class: 'error', role: 'alert' });
  const here = () => trail[trail.length - 1].id;
  root.append(
    h('h2', { i18n: 'admin.coverage' }),
    scopeChooser(ctx.user, () => ctx.navigate(location.pathname, true)) || '',
    crumbs, picker, stats,
    h('h3', { i18n: 'coverage.gaps' }),
    downloadButton('gaps-csv', 'coverage.gapsCsv', () => `/stats/gaps.csv?region_id=${here()}`, 'gaps.csv', msg),
    gaps,
    h('section', { class: 'card' },
      h('h3', { i18n: 'coverage.ledgers' }),
      downloadButton('ledger-csv', 'coverage.ledgerCsv', () => `/ledgers/units.csv?region_id=${here()}`, 'units.csv', msg),
      downloadButton('ledger-xlsx', 'coverage.ledgerXlsx', () => `/ledgers/units.xlsx?region_id=${here()}`, 'units.xlsx', msg),
      msg));

  const start = adminRegion(ctx.user);
  load(stats, () => api.get(`/regions/${start}`, false), (region) => go(region));

  function go(region) {
    const at = trail.findIndex((r) => r.id === region.id);
    if (at >= 0) trail.length = at + 1;
    else trail.push({ id: region.id, name: region.name });
    drawCrumbs();
    drawPicker();
    load(stats, () => api.get(`/stats/coverage?region_id=${region.id}`), drawStats);
    showGaps();
  }

  function drawCrumbs() {
    empty(crumbs);
    trail.forEach((r, i) => {
      crumbs.append(h('li', {}, i === trail.length - 1
        ? h('strong', { 'aria-current': 'page' }, r.name)
        : h('button', { type: 'button', class: 'link', onclick: () => go(r) }, r.name)));
    });
  }

  function drawPicker() {
    const select = h('select', { id: 'sub-region' }, h('option', { value: '', i18n: 'coverage.pick' }));
    load(picker, () => api.get(`/regions?parent_id=${here()}&limit=100`, false), (page) => {
      const items = page.items || [];
      if (!items.length) return;
      for (const r of items) select.append(h('option', { value: r.id }, r.name));
      select.addEventListener('change', () => {
        const r = items.find((x) => String(x.id) === select.value);
        if (r) go(r);
      });
      picker.append(h('label', { for: 'sub-region', i18n: 'coverage.sub' }), select);
    });
  }

  function drawStats(c) {
    const th = (key, cls) => h('th', { scope: 'col', class: cls, i18n: key });
    const rowOf = (r, isTotal) => h('tr', { class: isTotal ? 'total' : null },
      h('th', { scope: 'row' }, isTotal
        ? h('span', { i18n: 'coverage.total' })
        : h('button', { type: 'button', class: 'link', onclick: () => go({ id: r.region_id, name: r.name }) }, r.name)),
      h('td', { class: 'num' }, String(r.units)),
      h('td', { class: 'num' }, String(r.required)),
      h('td', { class: 'num' }, String(r.required_covered_any)),
      h('td', { class: 'num' }, pct(r)));
    const children = c.children || [];
    stats.append(
      h('p', { class: 'big', id: 'coverage-rate' }, h('span', { i18n: 'coverage.rate' }), ` ${pct(c)}`),
      h('p', { class: 'hint', i18n: 'coverage.byType', args: c.covered || {} }),
      h('div', { class: 'table-wrap' }, h('table', { id: 'coverage-table' },
        h('caption', { i18n: 'coverage.children' }),
        h('thead', {}, h('tr', {}, th('coverage.region'), th('coverage.units', 'num'), th('coverage.required', 'num'), th('coverage.covered', 'num'), th('coverage.rate', 'num'))),
        h('tbody', {}, ...children.map((r) => rowOf(r, false)), rowOf(c, true)))),
      children.length ? rateChart(children) : h('p', { class: 'muted', i18n: 'coverage.noChildren' }));
  }

  function showGaps() {
    const base = `/stats/gaps?region_id=${here()}&limit=20`;
    load(gaps, () => api.get(base), (page) => drawGaps(page, base, null));
  }

  function drawGaps(page, base, ul) {
    const items = page.items || [];
    if (!ul) {
      if (!items.length) {
        gaps.append(h('p', { id: 'gaps-empty', class: 'muted', i18n: 'coverage.noGaps' }));
        return;
      }
      ul = h('ul', { class: 'items', id: 'gap-list' });
      gaps.append(ul);
    }
    for (const g of items) {
      const kindKey = enumKey('unit.kind', UNIT_KINDS, g.kind);
      const reasons = g.reasons || (g.reason ? [g.reason] : []);
      ul.append(h('li', { class: 'card', 'data-unit-id': g.unit_id },
        h('strong', {}, g.name),
        h('p', { class: 'hint' }, g.region_path || ''),
        h('p', { class: 'hint' }, kindKey ? h('span', { i18n: kindKey }) : null, ' · ',
          h('span', { i18n: 'units.employeesShort', args: { n: g.employee_count } }), ' · ', g.uscc),
        reasons.length ? h('p', { class: 'hint' }, reasons.join('；')) : null));
    }
    if (page.next_cursor) {
      const more = h('button', { type: 'button', class: 'more', i18n: 'app.more' });
      const error = h('p', { class: 'error', role: 'alert' });
      more.addEventListener('click', () => busy(more, async () => {
        clearError(error);
        try {
          const next = await api.get(`${base}&cursor=${encodeURIComponent(page.next_cursor)}`);
          more.remove();
          error.remove();
          drawGaps(next, base, ul);
        } catch (err) {
          showError(error, err);
        }
      }));
      gaps.append(more, error);
    }
  }
}
