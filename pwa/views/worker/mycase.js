// 申请详情: one of my requests — progress, what I sent, messages, documents,
// withdrawing. It pulls the case again every 30 s while the page is visible
// and when it comes back into view, so the worker sees it move.
import * as api from '../../api.js';
import { formatTime, setText, clearText } from '../../i18n/index.js';
import '../../i18n/cases.js';
import {
  h, add, empty, load, busy, saveBlob, toMs, kindBadge, statusBadge, showError, fenToYuan, whileVisible, ENDED, CATEGORIES,
} from '../../kit.js';

export const titleKey = 'title.case';

const MAX_BYTES = 5 * 1024 * 1024;
const TYPES = ['image/jpeg', 'image/png', 'application/pdf'];

export function render(root, ctx) {
  const id = ctx.params[0];
  const box = h('div', { id: 'case' });
  root.append(h('p', {}, h('a', { class: 'back', href: '/cases', i18n: 'case.back' })), box);
  const urls = [];
  let stop = null;
  let dead = false;
  load(box, () => api.get(`/cases/${id}`), (c) => {
    if (dead) return;
    // An officer following a notice's /cases/{id} link: the officer's screen.
    if (c.applicant && ctx.user && c.applicant.id !== ctx.user.id) {
      ctx.navigate(`/admin/cases/${id}`, true);
      return;
    }
    const page = build(box, id, urls);
    page.show(c);
    let pulling = false;
    stop = whileVisible(async () => {
      if (pulling) return;
      pulling = true;
      try {
        page.show(await api.get(`/cases/${id}`));
      } catch {
        // A bad signal: keep what is on screen and try again next time.
      } finally {
        pulling = false;
      }
    }, 30000);
  });
  return () => {
    dead = true;
    if (stop) stop();
    for (const u of urls) URL.revokeObjectURL(u);
  };
}

function section(key, ...children) {
  return h('section', { class: 'card' }, h('h3', { i18n: key }), ...children);
}

function build(box, id, urls) {
  let c = null;
  const drawn = {};
  const title = h('h2', { id: 'case-title' });
  // Announced when a refresh brings a new status.
  const badges = h('p', { 'aria-live': 'polite' });
  const org = h('p', { class: 'muted' });
  const updated = h('span', { class: 'muted', id: 'case-updated' });
  const refresh = h('button', { type: 'button', id: 'case-refresh', i18n: 'case.refresh' });
  const refreshError = h('p', { class: 'error', role: 'alert' });
  const history = h('ol', { id: 'case-history' });
  const content = h('div', { id: 'case-content' });
  const withdrawBox = h('div', { class: 'row', id: 'case-withdraw' });
  const withdrawError = h('p', { class: 'error', role: 'alert' });
  const ended = h('p', { class: 'muted', id: 'case-ended', i18n: 'case.ended', hidden: true });
  const messages = h('ul', { class: 'items', id: 'case-messages' });
  const msg = h('textarea', { id: 'message', rows: 3, maxlength: 2000 });
  const send = h('button', { type: 'submit', class: 'primary', id: 'message-send', i18n: 'case.send' });
  const msgError = h('p', { class: 'error', role: 'alert', id: 'message-error' });
  const msgForm = h('form', { id: 'message-form', novalidate: true },
    h('label', { for: 'message', i18n: 'case.msgLabel' }), msg, send, msgError);
  const files = h('ul', { class: 'items', id: 'case-attachments' });
  const file = h('input', { type: 'file', id: 'case-file', accept: TYPES.join(',') });
  const upStatus = h('p', { class: 'ok', role: 'status', id: 'upload-status' });
  const upError = h('p', { class: 'error', role: 'alert', id: 'upload-error' });
  const upForm = h('div', { id: 'upload-form' },
    h('label', { for: 'case-file', i18n: 'case.file' }), file,
    h('p', { class: 'hint', i18n: 'case.fileHint' }), upStatus, upError);

  add(box, title, badges, org,
    /[?&]new=1/.test(location.search) ? h('p', { class: 'ok', id: 'case-new', i18n: 'case.new' }) : null,
    h('p', { class: 'row' }, refresh, updated), refreshError,
    withdrawBox, withdrawError,
    section('case.history', history),
    section('case.content', content),
    section('case.messages', messages, ended, msgForm),
    section('case.attachments', files, upForm));

  // Redraws only what changed, so a refresh never eats a half-typed message,
  // an open confirmation or a photo being looked at.
  function changed(part, value) {
    const k = JSON.stringify(value);
    if (drawn[part] === k) return false;
    drawn[part] = k;
    return true;
  }

  function show(next) {
    c = next;
    title.textContent = c.service_title || `#${c.id}`;
    org.textContent = c.org_name || '';
    setText(updated, 'case.updated', { time: formatTime(Date.now()) });
    if (changed('status', c.status)) {
      empty(badges).append(statusBadge(c.status, 'case-status'), ' ', kindBadge(c.kind));
      drawWithdraw();
    }
    const over = ENDED.includes(c.status);
    ended.hidden = !over;
    msgForm.hidden = over;
    upForm.hidden = over;
    if (changed('history', c.history)) drawHistory();
    if (changed('content', [c.description, c.details, c.amount_requested_fen, c.amount_granted_fen, c.payment])) drawContent();
    if (changed('messages', c.messages)) drawMessages();
    if (changed('files', (c.attachments || []).map((a) => a.id))) drawFiles();
  }

  function mine(by) {
    return c.applicant && by === c.applicant.id;
  }

  function drawHistory() {
    empty(history);
    for (const e of c.history || []) {
      history.append(h('li', { 'data-to': e.to },
        statusBadge(e.to), ' ',
        h('span', { class: 'muted' }, formatTime(toMs(e.at))),
        e.by_name || mine(e.by) ? h('span', { class: 'muted' }, ' · ', mine(e.by) ? h('span', { i18n: 'case.me' }) : e.by_name) : null,
        e.note ? h('p', { class: 'pre' }, e.note) : null));
    }
  }

  function drawContent() {
    const d = c.details || {};
    const rows = [];
    if (CATEGORIES.includes(d.category)) rows.push(h('p', {}, h('span', { class: 'badge', i18n: `apply.cat.${d.category}` })));
    if (d.matter) rows.push(h('p', {}, h('span', { i18n: 'apply.matter' }), `：${d.matter}`));
    if (d.contact_time) rows.push(h('p', {}, h('span', { i18n: 'apply.contactTime' }), `：${d.contact_time}`));
    if (c.amount_requested_fen) rows.push(h('p', { i18n: 'case.amount', args: { yuan: fenToYuan(c.amount_requested_fen) } }));
    if (c.amount_granted_fen != null) rows.push(h('p', { class: 'ok', i18n: 'case.granted', args: { yuan: fenToYuan(c.amount_granted_fen) } }));
    if (c.payment) rows.push(h('p', { class: 'ok', i18n: 'case.paid', args: { yuan: fenToYuan(c.payment.amount_fen), date: c.payment.paid_on } }));
    empty(content).append(...rows, h('p', { class: 'pre', id: 'case-description' }, c.description || ''),
      h('p', { class: 'muted', i18n: 'case.created', args: { time: formatTime(toMs(c.created_at)) } }));
  }

  function drawMessages() {
    empty(messages);
    const list = c.messages || [];
    if (!list.length) messages.append(h('li', { class: 'muted', i18n: 'case.noMessages' }));
    for (const m of list) {
      messages.append(h('li', { class: 'card', 'data-id': m.id },
        h('strong', {}, m.from_applicant ? h('span', { i18n: 'case.me' }) : m.author_name || ''), ' ',
        h('span', { class: 'muted' }, formatTime(toMs(m.created_at))),
        h('p', { class: 'pre' }, m.body)));
    }
  }

  function drawFiles() {
    empty(files);
    const list = c.attachments || [];
    if (!list.length) files.append(h('li', { class: 'muted', i18n: 'case.noAttachments' }));
    for (const a of list) files.append(fileItem(a));
  }

  function fileItem(a) {
    const image = a.content_type !== 'application/pdf';
    const path = a.url ? a.url.replace(/^\/api\/v1/, '') : `/cases/${c.id}/attachments/${a.id}`;
    const error = h('p', { class: 'error', role: 'alert' });
    const shown = h('div');
    const open = h('button', { type: 'button', class: 'open-file', i18n: image ? 'case.view' : 'case.download' });
    open.addEventListener('click', () => busy(open, async () => {
      clearText(error);
      if (shown.firstChild) {
        empty(shown);
        setText(open, 'case.view');
        return;
      }
      try {
        const got = await api.getBlob(path);
        if (!image) {
          saveBlob(got, a.name || `case-${c.id}-${a.id}.pdf`);
          return;
        }
        const url = URL.createObjectURL(got.blob);
        urls.push(url);
        shown.append(h('img', { src: url, alt: a.name || '' }));
        setText(open, 'case.hide');
      } catch (err) {
        showError(error, err, 'case');
      }
    }));
    return h('li', { class: 'card', 'data-id': a.id },
      h('p', {}, h('span', { class: 'badge', i18n: image ? 'case.photo' : 'case.pdf' }), ' ', a.name || '',
        h('span', { class: 'muted' }, ` ${Math.max(1, Math.round((a.size || 0) / 1024))} KB`)),
      open, shown, error);
  }

  function drawWithdraw() {
    empty(withdrawBox);
    clearText(withdrawError);
    if (c.status !== 'submitted') return;
    withdrawBox.append(h('button', { type: 'button', id: 'case-withdraw-btn', i18n: 'case.withdraw', onclick: confirm }));
  }

  function confirm() {
    const yes = h('button', { type: 'button', class: 'primary', id: 'case-withdraw-yes', i18n: 'case.confirmYes' });
    empty(withdrawBox).append(h('p', { class: 'confirm', role: 'alert', i18n: 'case.confirmWithdraw' }), yes,
      h('button', { type: 'button', i18n: 'app.cancel', onclick: drawWithdraw }));
    yes.focus();
    yes.addEventListener('click', () => busy(yes, async () => {
      clearText(withdrawError);
      try {
        show(await api.post(`/cases/${c.id}/transition`, { to: 'withdrawn' }));
      } catch (err) {
        showError(withdrawError, err, 'case');
      }
    }));
  }

  msgForm.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(send, async () => {
      clearText(msgError);
      msg.removeAttribute('aria-invalid');
      const body = msg.value.trim();
      if (!body || body.length > 2000) {
        msg.setAttribute('aria-invalid', 'true');
        setText(msgError, 'case.err.invalid_body');
        return;
      }
      try {
        const m = await api.post(`/cases/${c.id}/messages`, { body });
        msg.value = '';
        c.messages = [...(c.messages || []), m];
        if (changed('messages', c.messages)) drawMessages();
      } catch (err) {
        showError(msgError, err, 'case');
      }
    });
  });

  file.addEventListener('change', async () => {
    const f = file.files[0];
    clearText(upStatus);
    clearText(upError);
    if (!f) return;
    // Checked here first so a rider's mobile data is not spent on a refusal.
    if (f.size > MAX_BYTES) {
      setText(upError, 'case.err.payload_too_large');
      return;
    }
    if (f.type && !TYPES.includes(f.type)) {
      setText(upError, 'case.err.unsupported_media_type');
      return;
    }
    const form = new FormData();
    form.append('file', f, f.name);
    file.disabled = true;
    setText(upStatus, 'case.uploading');
    try {
      const a = await api.upload(`/cases/${c.id}/attachments`, form, (p) => {
        upStatus.textContent = `${upStatus.textContent.replace(/ \d+%$/, '')} ${Math.round(p * 100)}%`;
      });
      c.attachments = [...(c.attachments || []), a];
      if (changed('files', c.attachments.map((x) => x.id))) drawFiles();
      setText(upStatus, 'case.uploaded');
    } catch (err) {
      clearText(upStatus);
      showError(upError, err, 'case');
    } finally {
      file.disabled = false;
      file.value = '';
    }
  });

  refresh.addEventListener('click', () => busy(refresh, async () => {
    clearText(refreshError);
    try {
      show(await api.get(`/cases/${id}`));
    } catch (err) {
      showError(refreshError, err, 'case');
    }
  }));
  return { show };
}
