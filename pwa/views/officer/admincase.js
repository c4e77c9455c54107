// 申请详情 (officers): one case — who asked, what for, earlier relief, the
// history; accept / reject / work on / resolve it, set the hardship class,
// record the payment, message the applicant, open the attachments.
import * as api from '../../api.js';
import { formatTime, setText, clearText, t, todayShanghai } from '../../i18n/index.js';
import '../../i18n/officer-cases.js';
import {
  h, empty, busy, saveBlob, maskPhone, toMs, ENDED,
  KINDS, CATEGORIES, CLASSES, METHODS, loadCss, showError, label, statusBadge, options, field, load, fenToYuan, parseYuan,
} from '../../kit.js';

export const titleKey = 'oc.title.case';

const MOVES = ['accepted', 'in_progress', 'resolved', 'closed', 'rejected'];

export function render(root, ctx) {
  loadCss();
  const id = ctx.params[0];
  const box = h('div', { id: 'case-page' });
  const urls = [];
  root.append(h('a', { class: 'back', href: '/admin/cases', i18n: 'oc.back' }), box);
  load(box, () => api.get(`/cases/${id}`), (c) => draw(c), 'oc');
  return () => urls.forEach((u) => URL.revokeObjectURL(u));

  /** Draws the whole case; `flash` is a success line for the last action. */
  function draw(c, flash) {
    const ok = h('p', { id: 'case-ok', class: 'ok', role: 'status' });
    if (flash) setText(ok, flash.key, flash.args);
    const hardship = c.kind === 'hardship';
    // Native append() would print a null part as the text "null".
    empty(box).append(...[
      h('h2', { id: 'case-title' }, c.service_title || ''),
      h('p', { class: 'oc-line' }, statusBadge(c.status, 'case-status', 'oc'), label('oc.kind', KINDS, c.kind, { class: 'oc-kind' }), h('span', { class: 'muted' }, c.org_name || '')),
      ok,
      warnings(c.relief_warnings || []),
      facts(c),
      hardship ? classForm(c) : null,
      actions(c),
      hardship && ['resolved', 'closed'].includes(c.status) ? payment(c) : null,
      history(c.history || []),
      messages(c),
      attachments(c.attachments || []),
    ].filter(Boolean));
  }

  function warnings(list) {
    if (!list.length) return null;
    return h('section', { id: 'relief-warning', class: 'oc-warning', role: 'alert' },
      h('h3', { i18n: 'oc.case.warnTitle' }),
      h('ul', {}, ...list.map((w) => h('li', { i18n: 'oc.case.warnItem', args: { date: w.date, org: w.org_name, amount: fenToYuan(w.amount_fen) } }))),
      h('p', { i18n: 'oc.case.warnHint' }));
  }

  function facts(c) {
    const dl = h('dl', { class: 'facts' });
    // `key` is an i18n key, or null with `raw` shown as it is (a detail we have no words for).
    const row = (key, dd, raw) => dl.append(key ? h('dt', { i18n: key }) : h('dt', {}, raw), h('dd', {}, dd));
    const a = c.applicant || {};
    row('oc.case.applicant', h('span', { id: 'case-applicant' }, `${a.name || '—'} ${maskPhone(a.phone)}`));
    row('oc.case.description', h('span', { id: 'case-description', class: 'oc-text' }, c.description || ''));
    for (const [k, v] of Object.entries(c.details || {})) row(detailKey(k), detailValue(k, v), k);
    if (Number.isSafeInteger(c.amount_requested_fen)) row('oc.case.requested', h('span', { i18n: 'oc.yuan', args: { amount: fenToYuan(c.amount_requested_fen) } }));
    if (Number.isSafeInteger(c.amount_granted_fen)) row('oc.case.granted', h('span', { id: 'case-granted', i18n: 'oc.yuan', args: { amount: fenToYuan(c.amount_granted_fen) } }));
    const consent = c.consent
      ? h('p', { id: 'case-consent', class: 'hint', i18n: 'oc.case.consent', args: { time: formatTime(toMs(c.consent.at)), version: c.consent.version } })
      : h('p', { id: 'case-consent', class: 'hint', i18n: 'oc.case.noConsent' });
    return h('section', { class: 'card' }, dl, consent);
  }

  function classForm(c) {
    const select = h('select', { id: 'case-class' }, h('option', { value: '', i18n: 'oc.case.classNone' }), ...options('oc.class', CLASSES, c.hardship_class));
    const save = h('button', { id: 'case-class-save', type: 'button', i18n: 'oc.case.classSave' });
    const error = h('p', { class: 'error', role: 'alert' });
    save.addEventListener('click', () => busy(save, async () => {
      clearText(error);
      if (!select.value) return setText(error, 'oc.err.invalid_hardship_class');
      try {
        const next = await api.patch(`/cases/${c.id}`, { hardship_class: select.value });
        draw(next && Array.isArray(next.history) ? next : await api.get(`/cases/${c.id}`), { key: 'oc.case.classSaved' });
      } catch (err) {
        showError(error, err, 'oc');
      }
      return undefined;
    }));
    return h('section', { class: 'card' }, ...field('case-class', 'oc.case.class', select), save, error);
  }

  function actions(c) {
    const moves = MOVES.filter((m) => (c.allowed_transitions || []).includes(m));
    if (!moves.length) return h('p', { id: 'case-done', class: 'hint', i18n: 'oc.case.noActions' });
    const note = h('textarea', { id: 'case-note', maxlength: '1000', rows: '3' });
    const needAmount = c.kind === 'hardship' && moves.includes('resolved');
    // Left empty (not the amount asked): granting money is a decision typed in on purpose.
    const amount = needAmount ? h('input', { id: 'case-amount', type: 'text', inputmode: 'decimal', autocomplete: 'off', i18nAttr: { placeholder: 'oc.case.amountPh' } }) : null;
    const error = h('p', { id: 'case-error', class: 'error', role: 'alert' });
    const buttons = moves.map((to) => {
      // Once accepted, saying no is 不予办理 (no longer "not accepting").
      const key = to === 'rejected' && c.status !== 'submitted' ? 'oc.case.to.stop' : `oc.case.to.${to}`;
      const b = h('button', { id: `to-${to}`, type: 'button', class: to === 'rejected' ? '' : 'primary', i18n: key });
      b.addEventListener('click', () => busy(b, () => move(c, to, note, amount, error)));
      return b;
    });
    return h('section', { id: 'case-actions', class: 'card oc-actions' },
      h('h3', { i18n: 'oc.case.act' }),
      ...(amount ? field('case-amount', 'oc.case.amount', amount) : []),
      ...field('case-note', 'oc.case.note', note),
      error, ...buttons);
  }

  async function move(c, to, note, amount, error) {
    clearText(error);
    const body = { to };
    if (note.value.trim()) body.note = note.value.trim();
    else if (to === 'rejected') {
      setText(error, 'oc.case.noteRequired');
      note.focus();
      return;
    }
    if (to === 'resolved' && amount) {
      // The amount granted may be 0 (resolved without money).
      const fen = parseYuan(amount.value, 0);
      if (fen == null) {
        setText(error, 'oc.case.amountRequired');
        amount.setAttribute('aria-invalid', 'true');
        amount.focus();
        return;
      }
      body.amount_granted_fen = fen;
    }
    try {
      const next = await api.post(`/cases/${c.id}/transition`, body);
      draw(next, { key: 'oc.case.moved', args: { status: t(`oc.status.${next.status}`) } });
    } catch (err) {
      showError(error, err, 'oc');
    }
  }

  function payment(c) {
    const p = c.payment;
    if (p) {
      return h('section', { id: 'case-payment', class: 'card' }, h('h3', { i18n: 'oc.case.payment' }),
        h('p', { id: 'payment-line', i18n: 'oc.case.paid', args: { date: p.paid_on, method: t(`oc.method.${p.method}`), amount: fenToYuan(p.amount_fen), who: p.recorded_by_name || '—' } }));
    }
    if (!(c.amount_granted_fen > 0)) return null;
    const date = h('input', { id: 'pay-date', type: 'date', max: todayShanghai(), value: todayShanghai(), required: true });
    const method = h('select', { id: 'pay-method' }, ...options('oc.method', METHODS, 'bank_transfer'));
    const amount = h('input', { id: 'pay-amount', type: 'text', inputmode: 'decimal', autocomplete: 'off', value: fenToYuan(c.amount_granted_fen, false) });
    const error = h('p', { class: 'error', role: 'alert' });
    const submit = h('button', { id: 'pay-submit', type: 'submit', class: 'primary', i18n: 'oc.case.paySubmit' });
    const form = h('form', { id: 'pay-form', class: 'card', novalidate: true }, h('h3', { i18n: 'oc.case.payForm' }),
      ...field('pay-date', 'oc.case.paidOn', date), ...field('pay-method', 'oc.case.method', method),
      ...field('pay-amount', 'oc.case.payAmount', amount), error, submit);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        clearText(error);
        const fen = parseYuan(amount.value);
        if (!/^\d{4}-\d{2}-\d{2}$/.test(date.value) || date.value > todayShanghai()) return setText(error, 'oc.case.dateRequired');
        if (fen == null || fen > c.amount_granted_fen) return setText(error, 'oc.err.invalid_amount');
        try {
          const next = await api.post(`/cases/${c.id}/payment`, { paid_on: date.value, method: method.value, amount_fen: fen });
          draw(next);
        } catch (err) {
          showError(error, err, 'oc');
        }
        return undefined;
      });
    });
    return form;
  }

  function history(items) {
    return h('section', { class: 'card' }, h('h3', { i18n: 'oc.case.history' }),
      h('ol', { id: 'case-history', class: 'oc-timeline' }, ...items.map((e) => h('li', {},
        h('p', { class: 'oc-line' }, statusBadge(e.to, null, 'oc'), h('span', { class: 'hint', i18n: 'oc.case.historyItem', args: { time: formatTime(toMs(e.at)), who: e.by_name || '—' } })),
        e.note ? h('p', { class: 'oc-note' }, e.note) : null))));
  }

  function messages(c) {
    const ul = h('ul', { id: 'case-messages', class: 'list-plain' });
    const drawMsg = (m) => h('li', { class: `oc-msg${m.from_applicant ? '' : ' mine'}` },
      h('p', { class: 'hint' }, m.author_name || '—', m.from_applicant ? ' ' : null,
        m.from_applicant ? h('span', { i18n: 'oc.case.fromApplicant', class: 'badge' }) : null, ` · ${formatTime(toMs(m.created_at))}`),
      h('p', { class: 'oc-text' }, m.body));
    const list = c.messages || [];
    for (const m of list) ul.append(drawMsg(m));
    const empty0 = list.length ? null : h('p', { class: 'muted', i18n: 'oc.case.noMessages' });
    const section = h('section', { class: 'card' }, h('h3', { i18n: 'oc.case.messages' }), empty0, ul);
    if (ENDED.includes(c.status)) {
      section.append(h('p', { class: 'hint', i18n: 'oc.case.closedMsg' }));
      return section;
    }
    const body = h('textarea', { id: 'msg-body', maxlength: '2000', rows: '3' });
    const error = h('p', { class: 'error', role: 'alert' });
    const send = h('button', { id: 'msg-send', type: 'submit', class: 'primary', i18n: 'oc.case.send' });
    const form = h('form', { id: 'msg-form', novalidate: true }, ...field('msg-body', 'oc.case.message', body), error, send);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(send, async () => {
        clearText(error);
        const text = body.value.trim();
        if (!text || text.length > 2000) return setText(error, 'oc.case.bodyRequired');
        try {
          const m = await api.post(`/cases/${c.id}/messages`, { body: text }, { 'Idempotency-Key': api.newKey() });
          if (empty0) empty0.remove();
          ul.append(drawMsg(m));
          body.value = '';
        } catch (err) {
          showError(error, err, 'oc');
        }
        return undefined;
      });
    });
    section.append(form);
    return section;
  }

  function attachments(items) {
    const section = h('section', { id: 'case-attachments', class: 'card' }, h('h3', { i18n: 'oc.case.attachments' }));
    if (!items.length) section.append(h('p', { class: 'muted', i18n: 'oc.case.noAttachments' }));
    for (const a of items) {
      const slot = h('div');
      const error = h('p', { class: 'error', role: 'alert' });
      const open = h('button', { type: 'button', class: 'att-open', i18n: 'oc.case.open' });
      const path = String(a.url || '').replace(/^\/api\/v1/, '');
      open.addEventListener('click', () => busy(open, async () => {
        clearText(error);
        try {
          // The file needs the bearer token, so it is fetched, then shown from a blob: URL.
          const file = await api.getBlob(path);
          const name = file.filename || a.name || `attachment-${a.id}`;
          if (/^image\/(jpeg|png)$/.test(file.blob.type || a.content_type)) {
            const url = URL.createObjectURL(file.blob);
            urls.push(url);
            empty(slot).append(h('img', { class: 'oc-preview', src: url, alt: a.name || '' }),
              h('button', { type: 'button', i18n: 'oc.case.download', onclick: () => saveBlob(file, name) }));
          } else {
            saveBlob(file, name);
          }
        } catch (err) {
          showError(error, err, 'oc');
        }
      }));
      section.append(h('div', { class: 'oc-att', 'data-attachment-id': a.id },
        h('p', {}, `${a.name || `#${a.id}`} · ${Math.max(1, Math.round((a.size || 0) / 1024))} KB`), open, error, slot));
    }
    return section;
  }
}

function detailKey(k) {
  const key = `oc.detail.${k}`;
  return t(key) === key ? null : key;
}

function detailValue(k, v) {
  if (k === 'category') return label('oc.cat', CATEGORIES, v);
  if (/_fen$/.test(k) && Number.isSafeInteger(v)) return h('span', { i18n: 'oc.yuan', args: { amount: fenToYuan(v) } });
  if (v && typeof v === 'object') return JSON.stringify(v);
  return String(v ?? '');
}
