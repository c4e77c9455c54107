// 消息: my notifications, newest first. Tapping one marks it read and opens
// its page; 全部已读 clears the badge.
import * as api from '../../api.js';
import { formatTime } from '../../i18n/index.js';
import '../../i18n/cases.js';
import { h, load, busy, showError, clearError, toMs } from '../../kit.js';

export const titleKey = 'title.inbox';

/** Only our own pages: a link is never followed off the site. */
function inApp(link) {
  return typeof link === 'string' && /^\/(?!\/)/.test(link) ? link : null;
}

export function render(root, ctx) {
  const box = h('div', { id: 'inbox' });
  const error = h('p', { class: 'error', role: 'alert', id: 'inbox-error' });
  const all = h('button', { type: 'button', id: 'inbox-read-all', i18n: 'inbox.readAll', hidden: true });
  root.append(h('h2', { i18n: 'nav.inbox' }), all, error, box);
  const changed = () => api.events.dispatchEvent(new Event('unread'));

  all.addEventListener('click', () => busy(all, async () => {
    clearError(error);
    try {
      await api.post('/me/notifications/read-all');
      for (const li of box.querySelectorAll('li[data-unread]')) read(li);
      all.hidden = true;
      changed();
    } catch (err) {
      showError(error, err);
    }
  }));

  function read(li) {
    li.removeAttribute('data-unread');
    const mark = li.querySelector('.unread-mark');
    if (mark) mark.remove();
  }

  function item(n) {
    const link = inApp(n.link);
    const li = h('li', { class: 'card notice', 'data-id': n.id, 'data-unread': n.read_at ? null : 'true' },
      n.read_at ? null : h('span', { class: 'badge unread-mark', i18n: 'inbox.unread' }),
      h('h3', {}, link ? h('a', { class: 'tap', href: link }, n.title || '') : n.title || ''),
      n.body ? h('p', { class: 'pre' }, n.body) : null,
      h('p', { class: 'muted' }, formatTime(toMs(n.created_at))));
    // Runs before the app's link handler turns the page; the read is sent
    // without waiting, and the badge is asked again once it is stored.
    li.addEventListener('click', (e) => {
      if (li.hasAttribute('data-unread')) {
        read(li);
        api.post(`/me/notifications/${n.id}/read`).then(changed, () => {});
      }
      if (link && !e.target.closest('a')) ctx.navigate(link);
    });
    return li;
  }

  function draw(page, list) {
    const items = page.items || [];
    for (const n of items) list.append(item(n));
    if (box.querySelector('li[data-unread]')) all.hidden = false;
    if (!page.next_cursor) return;
    const more = h('button', { type: 'button', i18n: 'app.more' });
    const err = h('p', { class: 'error', role: 'alert' });
    more.addEventListener('click', () => busy(more, async () => {
      try {
        const next = await api.get(`/me/notifications?limit=30&cursor=${encodeURIComponent(page.next_cursor)}`);
        more.remove();
        err.remove();
        draw(next, list);
      } catch (e) {
        showError(err, e);
      }
    }));
    box.append(more, err);
  }

  load(box, () => api.get('/me/notifications?limit=30'), (page) => {
    if (!(page.items || []).length) {
      box.append(h('p', { class: 'muted card', id: 'inbox-empty', i18n: 'inbox.empty' }));
      return;
    }
    const list = h('ul', { class: 'items', id: 'inbox-list' });
    box.append(list);
    draw(page, list);
  });
}
