// Shared bits of the services, cases and inbox screens.
import '../i18n/cases.js';
import { t, setText, clearText, errorKey } from '../i18n/index.js';
import { h } from './ui.js';

export const KINDS = ['legal_aid', 'counseling', 'employment', 'matchmaking', 'hardship', 'rights'];
export const STATUSES = ['submitted', 'accepted', 'in_progress', 'resolved', 'closed', 'rejected', 'withdrawn'];
/** Statuses after which nothing more can be added to a case. */
export const ENDED = ['withdrawn', 'closed', 'rejected'];

export function kindBadge(kind) {
  return KINDS.includes(kind) ? h('span', { class: 'badge', i18n: `svc.kind.${kind}` }) : null;
}

export function statusBadge(status, id) {
  const cls = status === 'rejected' ? 'state-rejected' : status === 'resolved' || status === 'closed' ? 'state-active' : '';
  return STATUSES.includes(status)
    ? h('span', { id, class: `state case-status ${cls}`, 'data-status': status, i18n: `case.status.${status}` })
    : h('span', { id, class: 'state case-status' }, status);
}

/** 50000 fen → "500", 12345 → "123.45". */
export function yuan(fen) {
  return fen % 100 ? (fen / 100).toFixed(2) : String(fen / 100);
}

/**
 * Our wording for the codes of these screens; else the shell's; else the
 * server's own (plain Chinese) message rather than a vague "出错了".
 */
export function showErr(el, err) {
  const code = err.status === 413 ? 'payload_too_large' : err.status === 415 ? 'unsupported_media_type' : err.code;
  if (t(`case.err.${code}`) !== `case.err.${code}`) {
    setText(el, `case.err.${code}`);
    return;
  }
  const [key, params] = errorKey(err);
  if ((key === 'err.generic' || code === 'bad_request') && err.message) {
    clearText(el);
    el.textContent = err.message;
  } else {
    setText(el, key, params);
  }
}

/** Reruns fn every `ms` while the page is visible and when it comes back into view; returns a stop function. */
export function whileVisible(fn, ms) {
  const tick = () => { if (document.visibilityState === 'visible') fn(); };
  const timer = setInterval(tick, ms);
  document.addEventListener('visibilitychange', tick);
  window.addEventListener('focus', tick);
  return () => {
    clearInterval(timer);
    document.removeEventListener('visibilitychange', tick);
    window.removeEventListener('focus', tick);
  };
}
