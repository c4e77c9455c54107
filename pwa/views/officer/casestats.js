// 帮扶统计 (region admins): how many requests for help the orgs of a region
// have, by status and by kind. Counts only: a region admin never opens a case.
import * as api from '../../api.js';
import '../../i18n/officer-cases.js';
import { h, load, KINDS, STATUSES, loadCss } from '../../kit.js';
import { regionSelect } from './admin.js';

export const titleKey = 'oc.title.stats';

function table(id, prefix, keys, counts) {
  return h('table', { id, class: 'oc-stats' },
    h('tbody', {}, ...keys.map((k) => h('tr', {},
      h('th', { scope: 'row', i18n: `${prefix}.${k}` }),
      h('td', {}, String(counts[k] ?? 0))))));
}

export function render(root, ctx) {
  loadCss();
  const select = regionSelect('stats-region', ctx.user);
  const box = h('div', { id: 'case-stats' });
  root.append(h('h2', { i18n: 'oc.menu.stats' }),
    h('p', { class: 'hint', i18n: 'oc.stats.hint' }),
    h('div', { class: 'card' }, h('label', { for: 'stats-region', i18n: 'oc.stats.region' }), select),
    box);
  const show = () => {
    const rid = Number(select.value);
    if (!rid) return;
    load(box, () => api.get(`/stats/cases?region_id=${rid}`), (s) => {
      box.append(
        h('p', { id: 'stats-total', i18n: 'oc.stats.total', args: { n: s.total } }),
        h('h3', { i18n: 'oc.cases.status' }), table('stats-status', 'oc.status', STATUSES, s.by_status || {}),
        h('h3', { i18n: 'oc.cases.kind' }), table('stats-kind', 'oc.kind', KINDS, s.by_kind || {}));
    });
  };
  select.addEventListener('change', show);
  // The first option (the admin's own region) arrives with the region's name.
  const wait = new MutationObserver(() => {
    if (select.options.length) {
      wait.disconnect();
      show();
    }
  });
  wait.observe(select, { childList: true });
}
