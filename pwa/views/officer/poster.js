// A4 join poster: name, type, a big QR and 扫码加入. Print CSS hides the app chrome.
import * as api from '../../api.js';
import { h, load, enumKey, ORG_TYPES } from '../../kit.js';
import { qrImage } from './org.js';

export const titleKey = 'title.poster';
/** Tells the router to mark the page for print styles. */
export const printPage = true;

export function render(root, ctx) {
  const id = ctx.params[0];
  const urls = [];
  const box = h('div', { id: 'poster-box' });
  const controls = h('div', { class: 'no-print row' },
    h('button', { id: 'print', type: 'button', class: 'primary', i18n: 'poster.print', onclick: () => window.print() }),
    h('a', { class: 'back', href: `/admin/orgs/${id}`, i18n: 'app.back' }));
  root.append(controls, box);
  load(box, () => api.get(`/orgs/${id}`), (org) => {
    const typeKey = enumKey('org.type', ORG_TYPES, org.type);
    box.append(h('section', { class: 'poster' },
      typeKey ? h('p', { class: 'badge', i18n: typeKey }) : null,
      h('h2', { id: 'poster-name' }, org.name),
      qrImage(org.id, urls),
      h('p', { class: 'cta', i18n: 'poster.cta' }),
      h('p', { i18n: 'poster.how' }),
      org.join_code ? h('p', { class: 'muted' }, org.join_code) : null));
  });
  return () => urls.forEach((u) => URL.revokeObjectURL(u));
}
