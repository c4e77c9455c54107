// One organization for its officers: facts, join code and QR, poster link.
import * as api from '../api.js';
import { h, load, enumKey, ORG_TYPES, ORG_FORMS } from './ui.js';

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
    box.append(
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
      h('a', { class: 'btn', href: '/admin/approvals', i18n: 'admin.approvals' }),
      h('a', { class: 'btn', href: '/admin/orgs', i18n: 'admin.orgs' }));
  });
  return () => urls.forEach((u) => URL.revokeObjectURL(u));
}
