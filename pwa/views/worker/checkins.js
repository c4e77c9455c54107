// 签到记录: check-ins kept on this phone (queued / confirmed / failed) and the
// server's history (GET /me/checkins).
import * as api from '../../api.js';
import { formatTime } from '../../i18n/index.js';
import { h, empty, load, busy, toMs } from '../../kit.js';
import * as queue from '../../queue.js';
import { reasonKey } from './checkin.js';

export const titleKey = 'title.checkins';

function describe(item) {
  const b = item.body;
  return b.token ? null : `#${b.activity_id} · ${b.short_code}`;
}

export function render(root) {
  const local = h('ul', { id: 'checkin-queue', class: 'list-plain' });
  const localCard = h('section', { class: 'card', hidden: true }, h('h2', { i18n: 'checkins.pending' }), local);
  const retry = h('button', { id: 'checkin-flush', type: 'button', i18n: 'checkins.retry', hidden: true });
  localCard.append(retry);
  const history = h('div', { id: 'checkin-history' });
  root.append(h('h2', { i18n: 'nav.checkins' }), h('p', {}, h('a', { class: 'btn', href: '/scan', i18n: 'nav.scan' })), localCard,
    h('section', { class: 'card' }, h('h3', { i18n: 'checkins.history' }), history));

  async function drawLocal() {
    let items = [];
    try {
      items = await queue.all();
    } catch {
      // No IndexedDB here: nothing was queued.
    }
    empty(local);
    localCard.hidden = items.length === 0;
    retry.hidden = !items.some((x) => x.status === 'queued');
    for (const x of items) {
      const key = x.status === 'failed' ? reasonKey(x.code) : `checkins.status.${x.status}`;
      const title = h('span', {}, x.result ? `#${x.result.activity_id}` : describe(x) || '');
      local.append(h('li', { 'data-status': x.status },
        h('strong', { class: x.status === 'failed' ? 'error' : x.status === 'confirmed' ? 'ok' : null, i18n: key }), ' ',
        title, h('br'), h('span', { class: 'muted' }, formatTime(toMs(x.scanned_at)))));
    }
  }
  function drawHistory() {
    load(history, () => api.get('/me/checkins?limit=50'), (data) => {
      const items = data.items || [];
      if (!items.length) {
        history.append(h('p', { class: 'muted', i18n: 'checkins.empty' }));
        return;
      }
      history.append(h('ul', { class: 'list-plain' }, ...items.map((c) => h('li', { 'data-undone': c.undone_at ? 'true' : null },
        h('strong', {}, c.title), h('br'),
        h('span', { class: 'muted' }, formatTime(toMs(c.checked_in_at)))))));
    });
  }
  const onChange = () => { drawLocal(); drawHistory(); };
  retry.addEventListener('click', () => busy(retry, () => queue.flush()));
  queue.events.addEventListener('change', onChange);
  drawLocal();
  drawHistory();
  return () => queue.events.removeEventListener('change', onChange);
}
