// /kiosk/<activity id>: the screen at the entrance. Full-screen QR (rotating
// every 30 s), the short code in huge letters, the live count; no navigation.
import * as api from '../../api.js';
import { setText } from '../../i18n/index.js';
import { h, showError, toMs } from '../../kit.js';

export const titleKey = 'title.kiosk';
export const kiosk = true;

const RETRY_MS = 3000;
const COUNT_MS = 4000;

export function render(root, ctx) {
  const id = ctx.params[0];
  const title = h('h1', { id: 'kiosk-title', class: 'kiosk-title' });
  const img = h('img', { id: 'kiosk-qr', class: 'kiosk-qr', alt: '', hidden: true });
  const code = h('p', { id: 'kiosk-code', class: 'kiosk-code', 'aria-live': 'polite' });
  const count = h('p', { id: 'kiosk-count', class: 'kiosk-count', 'aria-live': 'polite' });
  const status = h('p', { id: 'kiosk-status', class: 'muted', role: 'status' });
  const fs = h('button', { id: 'kiosk-fs', type: 'button', i18n: 'kiosk.fullscreen' });
  root.append(h('section', { id: 'kiosk', class: 'kiosk' },
    title,
    h('p', { class: 'kiosk-hint', i18n: 'kiosk.hint' }),
    img,
    h('p', { class: 'kiosk-hint', i18n: 'kiosk.codeHint', args: { id } }),
    code, count, status, fs));

  let alive = true;
  let qrTimer = null;
  let countTimer = null;
  let expiresAt = 0;
  let objectUrl = null;
  let lock = null;

  async function refreshQr() {
    if (!alive) return;
    let next = RETRY_MS;
    try {
      const started = Date.now();
      const [qr, svg] = await Promise.all([api.get(`/activities/${id}/checkin-qr`), api.getBlob(`/activities/${id}/checkin-qr.svg`)]);
      if (!alive) return;
      const old = objectUrl;
      objectUrl = URL.createObjectURL(svg.blob);
      img.src = objectUrl;
      img.hidden = false;
      img.dataset.url = qr.url;
      code.textContent = qr.short_code;
      code.classList.remove('stale');
      if (old) URL.revokeObjectURL(old);
      // Times from the server clock, measured here as offsets from the request.
      const ttl = toMs(qr.expires_at) - Date.now();
      expiresAt = Date.now() + (Number.isFinite(ttl) ? ttl : 30000);
      setText(status, 'kiosk.live');
      next = Math.max(1000, started + qr.refresh_after * 1000 + 300 - Date.now());
    } catch (err) {
      // Keep the last code up until it expires, then say it is stale.
      showError(status, err);
      if (Date.now() > expiresAt) {
        img.hidden = true;
        code.classList.add('stale');
      }
    }
    if (alive) qrTimer = setTimeout(refreshQr, next);
  }

  async function refreshCount() {
    try {
      const a = await api.get(`/activities/${id}/attendance?limit=1`);
      if (!alive) return;
      setText(count, 'kiosk.count', { n: a.checked_in });
      count.dataset.n = a.checked_in;
    } catch {
      // Next poll.
    }
    if (alive) countTimer = setTimeout(refreshCount, COUNT_MS);
  }

  async function wake() {
    try {
      if ('wakeLock' in navigator && document.visibilityState === 'visible') lock = await navigator.wakeLock.request('screen');
    } catch {
      // Battery saver or no permission: the screen may sleep.
    }
  }
  const onVisible = () => {
    if (document.visibilityState !== 'visible') return;
    wake();
    // Timers are throttled in the background: catch up at once.
    clearTimeout(qrTimer);
    refreshQr();
  };
  document.addEventListener('visibilitychange', onVisible);
  fs.addEventListener('click', () => {
    const el = document.documentElement;
    if (document.fullscreenElement) document.exitFullscreen();
    else if (el.requestFullscreen) el.requestFullscreen().catch(() => {});
  });

  api.get(`/activities/${id}`).then((a) => { title.textContent = a.title; }, () => {});
  refreshQr();
  refreshCount();
  wake();

  return () => {
    alive = false;
    clearTimeout(qrTimer);
    clearTimeout(countTimer);
    document.removeEventListener('visibilitychange', onVisible);
    if (lock) lock.release().catch(() => {});
    if (objectUrl) URL.revokeObjectURL(objectUrl);
  };
}
