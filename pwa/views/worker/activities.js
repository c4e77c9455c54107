// 活动: my organizations' and public activities; sign up or cancel.
import * as api from '../../api.js';
import { formatTime, setText, clearText } from '../../i18n/index.js';
import { h, load, busy, showError, toMs, ACTIVITY_KINDS } from '../../kit.js';

export const titleKey = 'title.activities';

export function render(root) {
  const box = h('div', { id: 'activities' });
  root.append(h('h2', { i18n: 'act.mine' }),
    h('p', {}, h('a', { class: 'btn', href: '/scan', i18n: 'nav.scan' }), h('a', { class: 'btn', href: '/checkins', i18n: 'nav.checkins' })),
    box);
  const fetchAll = async () => {
    const [list, mine] = await Promise.all([api.get('/activities?limit=50'), api.get('/me/signups?limit=100').catch(() => ({ items: [] }))]);
    const signed = new Set((mine.items || []).filter((s) => s.status === 'active').map((s) => s.activity_id));
    return { items: list.items || [], signed };
  };
  load(box, fetchAll, ({ items, signed }) => {
    if (!items.length) {
      box.append(h('p', { class: 'muted card', id: 'activities-empty', i18n: 'act.empty' }));
      return;
    }
    for (const a of items) box.append(card(a, signed.has(a.id)));
  });
}

function card(a, isSigned) {
  let signedUp = isSigned;
  const cancelled = a.status === 'cancelled';
  const count = h('p', { class: 'muted' });
  const state = h('p', { class: 'ok', role: 'status' });
  const error = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'button', class: 'signup-btn' });
  const kind = ACTIVITY_KINDS.includes(a.kind) ? `act.kind.${a.kind}` : 'act.kind.other';
  function draw() {
    if (a.capacity != null) setText(count, 'act.countCap', { n: a.signed_up, cap: a.capacity });
    else setText(count, 'act.count', { n: a.signed_up });
    if (signedUp) setText(state, 'act.signedUp');
    else clearText(state);
    const full = a.capacity != null && a.signed_up >= a.capacity;
    button.hidden = cancelled || (!signedUp && full && !a.signup_required && false);
    button.className = signedUp ? 'signup-btn' : 'signup-btn primary';
    setText(button, signedUp ? 'act.cancel' : full ? 'act.full' : 'act.signup');
    button.disabled = !signedUp && full;
  }
  button.addEventListener('click', () => busy(button, async () => {
    clearText(error);
    const key = { 'Idempotency-Key': api.newKey() };
    try {
      if (signedUp) {
        await api.del(`/activities/${a.id}/signup`, key);
        signedUp = false;
        a.signed_up = Math.max(0, a.signed_up - 1);
      } else {
        await api.post(`/activities/${a.id}/signup`, {}, key);
        signedUp = true;
        a.signed_up += 1;
      }
    } catch (err) {
      if (err.code === 'already_signed_up') signedUp = true;
      showError(error, err);
    }
    draw();
  }));
  draw();
  return h('section', { class: 'card activity', 'data-id': a.id },
    h('p', { class: 'badge', i18n: kind }),
    h('h3', {}, a.title),
    h('p', { i18n: 'act.when', args: { start: formatTime(toMs(a.starts_at)), end: formatTime(toMs(a.ends_at)) } }),
    h('p', { class: 'muted' },
      h('span', { i18n: a.audience === 'public' ? 'act.public' : 'act.membersOnly' }),
      a.signup_required ? ' · ' : null,
      a.signup_required ? h('span', { i18n: 'act.needSignup' }) : null),
    cancelled ? h('p', { class: 'error', i18n: 'act.status.cancelled' }) : null,
    count, state, button, error);
}
