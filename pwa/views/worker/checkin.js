// /c/<token>: what the kiosk QR opens (phone camera, WeChat, or the in-app
// scanner). Checks the person in; logs in first if needed, keeping only the
// token, the scan time and the Idempotency-Key across the login.
import * as api from '../../api.js';
import { setText, formatTime } from '../../i18n/index.js';
import { h, empty, PENDING_CHECKIN, readJson, writeJson, toMs } from '../../kit.js';
import * as queue from '../../queue.js';

export const titleKey = 'title.checkin';

const REASONS = ['token_expired', 'invalid_token', 'not_open', 'not_signed_up', 'members_only', 'network', 'not_found', 'forbidden'];

/** The i18n key saying why a check-in failed. */
export function reasonKey(code, method) {
  // A typed short code is not a QR code: say so.
  if (code === 'invalid_token' && method === 'short_code') return 'checkin.err.invalid_code';
  return REASONS.includes(code) ? `checkin.err.${code}` : 'checkin.err.generic';
}

/** Runs a check-in attempt and shows the outcome in `box`. */
export async function run(box, item) {
  const status = h('p', { id: 'checkin-status', class: 'muted', role: 'status', i18n: 'checkin.sending' });
  empty(box).append(h('section', { class: 'card checkin' }, status));
  const r = await queue.send(item);
  const card = box.firstChild;
  empty(card);
  const msg = h('h2', { id: 'checkin-result', role: 'status' });
  card.append(msg);
  card.dataset.outcome = r.status === 'confirmed' ? (r.result.already ? 'already' : 'ok') : r.status;
  if (r.status === 'confirmed') {
    msg.className = 'ok big';
    setText(msg, r.result.already ? 'checkin.already' : 'checkin.ok');
    const act = h('p', { id: 'checkin-activity' });
    card.append(act, h('p', { class: 'muted', i18n: 'checkin.at', args: { time: formatTime(toMs(r.result.checked_in_at)) } }));
    api.get(`/activities/${r.result.activity_id}`).then((a) => {
      act.textContent = `${a.title} · ${formatTime(toMs(a.starts_at))}`;
    }, () => {});
  } else if (r.status === 'queued') {
    msg.className = 'big';
    setText(msg, 'checkin.queued');
    const hint = h('p', { class: 'muted', i18n: 'checkin.queuedHint' });
    card.append(hint);
    // A reload shows the list instead of scanning the same code again.
    history.replaceState(null, '', '/checkins');
    const follow = async () => {
      if (!box.isConnected) {
        queue.events.removeEventListener('change', follow);
        return;
      }
      const now = (await queue.all()).find((x) => x.key === item.key);
      if (!now || now.status === 'queued') return;
      queue.events.removeEventListener('change', follow);
      card.dataset.outcome = now.status;
      msg.className = now.status === 'confirmed' ? 'ok big' : 'error big';
      setText(msg, now.status === 'confirmed' ? 'checkin.confirmed' : reasonKey(now.code, item.body.short_code ? 'short_code' : 'qr'));
      hint.remove();
    };
    queue.events.addEventListener('change', follow);
  } else {
    msg.className = 'error big';
    msg.setAttribute('role', 'alert');
    setText(msg, reasonKey(r.code, item.body.short_code ? 'short_code' : 'qr'));
  }
  card.append(h('p', { class: 'links' },
    h('a', { class: 'btn', href: '/checkins', i18n: 'nav.checkins' }), ' ',
    h('a', { class: 'btn', href: '/scan', i18n: 'nav.scan' })));
  return r;
}

export function render(root, ctx) {
  const token = ctx.params[0];
  const box = h('div', { id: 'checkin-box' });
  root.append(box);
  const kept = readJson(PENDING_CHECKIN);
  const item = kept && kept.body && kept.body.token === token
    ? { key: kept.key, body: kept.body, scanned_at: kept.scanned_at, status: 'new', at: Date.now() }
    : queue.attempt({ token });
  if (!ctx.user && !ctx.offline) {
    // Only what is needed to finish afterwards; the login brings us back here.
    writeJson(PENDING_CHECKIN, { path: location.pathname, key: item.key, body: item.body, scanned_at: item.scanned_at });
    box.append(h('section', { class: 'card' }, h('p', { id: 'checkin-login', i18n: 'checkin.loginFirst' })));
    setTimeout(() => ctx.navigate('/login'), 0);
    return;
  }
  writeJson(PENDING_CHECKIN, null);
  // Started offline (no session could be restored): queue it; it is sent
  // once the app is online and signed in again.
  run(box, item);
}
