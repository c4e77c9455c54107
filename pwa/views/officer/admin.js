// 管理: the officer's menu, and helpers shared by the officer screens.
import * as api from '../../api.js';
import { h, scopeIds } from '../../kit.js';
// Menu words of the services, cases and campaigns screens.
import '../../i18n/officer-cases.js';
import '../../i18n/audit.js';

export const titleKey = 'title.admin';

/** sessionStorage key of the admin region chosen on the officer screens. */
const SCOPE_KEY = 'qunjia.adminRegion';

function storedRegion() {
  try {
    return sessionStorage.getItem(SCOPE_KEY);
  } catch {
    return null;
  }
}

/**
 * The admin region the officer screens work in: the one chosen in the scope
 * chooser this session, else the first; null when the user administers none.
 */
export function adminRegion(user) {
  const ids = scopeIds(user, 'admin', 'region');
  const kept = Number(storedRegion());
  return ids.includes(kept) ? kept : ids[0] ?? null;
}

/**
 * The scope chooser: a <select> of the user's admin regions, or null when
 * there is only one. onChange runs after the choice is remembered.
 */
export function scopeChooser(user, onChange) {
  const ids = scopeIds(user, 'admin', 'region');
  if (ids.length < 2) return null;
  const current = adminRegion(user);
  const select = h('select', { id: 'scope-region' },
    ...ids.map((id) => h('option', { value: id, selected: id === current }, `#${id}`)));
  ids.forEach((id, i) => {
    api.get(`/regions/${id}`, false).then((r) => { select.options[i].textContent = r.name; }, () => {});
  });
  select.addEventListener('change', () => {
    try {
      sessionStorage.setItem(SCOPE_KEY, select.value);
    } catch {
      // Not remembered; this screen still switches.
    }
    onChange(Number(select.value));
  });
  return h('div', { class: 'card scope' }, h('label', { for: 'scope-region', i18n: 'admin.scope' }), select);
}

/**
 * A <select> of the chosen admin region and its direct children (filled as
 * the answers arrive); the first option is that region itself.
 */
export function regionSelect(id, user) {
  const select = h('select', { id, name: 'region_id', required: true });
  const rid = adminRegion(user);
  if (rid == null) return select;
  (async () => {
    try {
      const [region, kids] = await Promise.all([api.get(`/regions/${rid}`, false), api.get(`/regions?parent_id=${rid}&limit=100`, false)]);
      select.append(h('option', { value: region.id }, region.name));
      for (const k of kids.items || []) select.append(h('option', { value: k.id }, `${region.name} › ${k.name}`));
    } catch {
      select.append(h('option', { value: rid }, `#${rid}`));
    }
  })();
  return select;
}

export function render(root, ctx) {
  const isAdmin = adminRegion(ctx.user) != null;
  // Cases are seen only by the officers of the org (never by region admins).
  const runsOrg = scopeIds(ctx.user, 'org_admin', 'org').length > 0;
  const links = [
    ['/admin/cases', 'oc.menu.cases', runsOrg],
    ['/admin/approvals', 'admin.approvals', true],
    ['/admin/orgs', 'admin.orgs', true],
    ['/admin/activities', 'admin.activities', true],
    ['/admin/services', 'oc.menu.services', true],
    ['/admin/campaigns', 'oc.menu.campaigns', runsOrg],
    ['/admin/units', 'admin.units', isAdmin],
    ['/admin/coverage', 'admin.coverage', isAdmin],
    ['/admin/casestats', 'oc.menu.stats', isAdmin],
    ['/admin/audit', 'au.menu', isAdmin],
  ];
  root.append(
    h('h2', { i18n: 'nav.admin' }),
    h('ul', { class: 'menu', id: 'admin-menu' },
      ...links.filter((l) => l[2]).map(([href, key]) => h('li', {}, h('a', { class: 'btn', href, i18n: key })))));
}
