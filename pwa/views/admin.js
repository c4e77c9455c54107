// 管理: the officer's menu, and helpers shared by the officer screens.
import * as api from '../api.js';
import { h, scopeIds } from './ui.js';

export const titleKey = 'title.admin';

/** The first region the user is admin of, or null. */
export function adminRegion(user) {
  return scopeIds(user, 'admin', 'region')[0] ?? null;
}

/**
 * A <select> of the regions the user administers and their direct children
 * (filled as the answers arrive); the first option is the user's own region.
 */
export function regionSelect(id, user) {
  const select = h('select', { id, name: 'region_id', required: true });
  (async () => {
    for (const rid of scopeIds(user, 'admin', 'region')) {
      try {
        const [region, kids] = await Promise.all([api.get(`/regions/${rid}`, false), api.get(`/regions?parent_id=${rid}&limit=100`, false)]);
        select.append(h('option', { value: region.id }, region.name));
        for (const k of kids.items || []) select.append(h('option', { value: k.id }, `${region.name} › ${k.name}`));
      } catch {
        select.append(h('option', { value: rid }, `#${rid}`));
      }
    }
  })();
  return select;
}

export function render(root, ctx) {
  const isAdmin = adminRegion(ctx.user) != null;
  const links = [
    ['/admin/approvals', 'admin.approvals', true],
    ['/admin/orgs', 'admin.orgs', true],
    ['/admin/units', 'admin.units', isAdmin],
    ['/admin/coverage', 'admin.coverage', isAdmin],
  ];
  root.append(
    h('h2', { i18n: 'nav.admin' }),
    h('ul', { class: 'menu', id: 'admin-menu' },
      ...links.filter((l) => l[2]).map(([href, key]) => h('li', {}, h('a', { class: 'btn', href, i18n: key })))));
}
