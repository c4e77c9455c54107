// 慰问详情 (officers): one holiday campaign — progress, the household list,
// recording a visit, the Excel (CSV) export and closing the campaign.
import * as api from '../../api.js';
import { setText, clearText, todayShanghai } from '../../i18n/index.js';
import '../../i18n/officer-cases.js';
import {
  h, empty, busy, saveBlob, maskPhone, qs,
  OCCASIONS, CLASSES, FORMS, loadCss, showError, label, options, field, load, pager, progress, fenToYuan, parseYuan,
} from '../../kit.js';

export const titleKey = 'oc.title.campaign';

export function render(root, ctx) {
  loadCss();
  const id = ctx.params[0];
  const head = h('div', { id: 'camp-head' });
  const filter = h('select', { id: 'visit-filter' }, h('option', { value: '', i18n: 'oc.all' }),
    h('option', { value: 'pending', i18n: 'oc.camp.pending' }), h('option', { value: 'done', i18n: 'oc.camp.done' }));
  const list = h('div', { id: 'visit-list' });
  let campaign = null;
  root.append(h('a', { class: 'back', href: '/admin/campaigns', i18n: 'oc.back' }), head,
    h('section', { class: 'card' }, h('h3', { i18n: 'oc.camp.visits' }), ...field('visit-filter', 'oc.camp.filter', filter), list));
  filter.addEventListener('change', showVisits);
  load(head, () => api.get(`/campaigns/${id}`), (c) => { drawHead(c); showVisits(); }, 'oc');

  function drawHead(c) {
    campaign = c;
    const closed = c.status === 'closed';
    const error = h('p', { id: 'camp-head-error', class: 'error', role: 'alert' });
    const csv = h('button', { id: 'camp-csv', type: 'button', i18n: 'oc.camp.csv' });
    csv.addEventListener('click', () => busy(csv, async () => {
      clearText(error);
      try {
        // The export needs the bearer token: fetched, then saved from a blob.
        saveBlob(await api.getBlob(`/campaigns/${c.id}/visits.csv`), `campaign-${c.id}.csv`);
      } catch (err) {
        showError(error, err, 'oc');
      }
    }));
    const actions = h('div', { class: 'oc-inline' }, csv);
    if (!closed) actions.append(closeButton(c, actions, error));
    empty(head).append(
      h('h2', { id: 'camp-title' }, c.title),
      h('p', { class: 'oc-line' }, label('oc.occ', OCCASIONS, c.occasion, { class: 'badge' }),
        h('span', { id: 'camp-status', class: `oc-status oc-status-${closed ? 'closed' : 'accepted'}`, i18n: closed ? 'oc.camp.closed' : 'oc.camp.open' }),
        h('span', { class: 'muted' }, c.org_name || '')),
      h('div', { id: 'camp-progress', class: 'card' }, progress(c)),
      actions, error);
  }

  function closeButton(c, actions, error) {
    const b = h('button', { id: 'camp-close', type: 'button', i18n: 'oc.camp.close' });
    b.addEventListener('click', () => {
      const yes = h('button', { id: 'camp-close-yes', type: 'button', class: 'primary', i18n: 'oc.camp.confirmYes' });
      const no = h('button', { type: 'button', i18n: 'app.cancel' });
      const ask = h('div', { class: 'full' }, h('p', { class: 'confirm', i18n: 'oc.camp.confirmClose' }), yes, no);
      b.replaceWith(ask);
      no.addEventListener('click', () => ask.replaceWith(b));
      yes.addEventListener('click', () => busy(yes, async () => {
        clearText(error);
        try {
          drawHead(await api.post(`/campaigns/${c.id}/close`, {}));
          showVisits();
        } catch (err) {
          showError(error, err, 'oc');
        }
      }));
    });
    return b;
  }

  async function refreshHead() {
    try {
      drawHead(await api.get(`/campaigns/${id}`));
    } catch {
      // The visit is saved; the totals catch up on the next load.
    }
  }

  function showVisits() {
    const base = `/campaigns/${id}/visits${qs({ status: filter.value, limit: 50 })}`;
    load(list, () => api.get(base), (page) => {
      if (!(page.items || []).length) {
        list.append(h('p', { id: 'visits-empty', class: 'muted', i18n: 'oc.camp.noVisits' }));
        return;
      }
      const ul = h('ul', { class: 'list-plain' });
      list.append(ul);
      pager(list, ul, base, page, visitItem);
    }, 'oc');
  }

  function visitItem(v) {
    const li = h('li', { class: 'visit', 'data-visit-id': v.id });
    draw(v);
    return li;

    function draw(visit) {
      const done = visit.status === 'done';
      empty(li).append(
        h('p', { class: 'oc-line' }, h('strong', {}, visit.name || '—'), h('span', { class: 'muted' }, maskPhone(visit.phone)),
          label('oc.class', CLASSES, visit.hardship_class, { class: 'badge' }),
          h('span', { class: `oc-status visit-status oc-status-${done ? 'resolved' : 'submitted'}`, i18n: done ? 'oc.camp.done' : 'oc.camp.pending' })));
      if (done) {
        li.append(h('p', { class: 'hint', i18n: 'oc.camp.doneLine', args: { date: visit.visited_on || '', who: visit.done_by_name || '—' } }),
          h('p', {}, label('oc.form', FORMS, visit.form),
            ...(Number.isSafeInteger(visit.amount_fen) ? [' · ', h('span', { i18n: 'oc.yuan', args: { amount: fenToYuan(visit.amount_fen) } })] : []),
            visit.goods ? ` · ${visit.goods}` : ''),
          visit.note ? h('p', { class: 'oc-note' }, visit.note) : '');
      } else if (campaign && campaign.status !== 'closed') {
        const mark = h('button', { type: 'button', class: 'visit-mark', i18n: 'oc.camp.mark' });
        mark.addEventListener('click', () => mark.replaceWith(doneForm(visit, draw)));
        li.append(mark);
      }
    }
  }

  function doneForm(v, redraw) {
    const p = `vd-${v.id}`;
    const date = h('input', { id: `${p}-date`, type: 'date', value: todayShanghai(), max: todayShanghai(), required: true });
    const form = h('select', { id: `${p}-form`, class: 'vd-form' }, ...options('oc.form', FORMS, 'both'));
    const amount = h('input', { id: `${p}-amount`, class: 'vd-amount', type: 'text', inputmode: 'decimal', autocomplete: 'off' });
    const goods = h('input', { id: `${p}-goods`, class: 'vd-goods', type: 'text', maxlength: '200', i18nAttr: { placeholder: 'oc.camp.goodsPh' } });
    const note = h('input', { id: `${p}-note`, type: 'text', maxlength: '500' });
    const error = h('p', { class: 'error', role: 'alert' });
    const save = h('button', { type: 'submit', class: 'primary visit-save', i18n: 'oc.camp.save' });
    const amountRow = h('div', {}, ...field(`${p}-amount`, 'oc.camp.amount', amount));
    const goodsRow = h('div', {}, ...field(`${p}-goods`, 'oc.camp.goodsField', goods));
    const sync = () => {
      amountRow.hidden = form.value === 'goods';
      goodsRow.hidden = form.value === 'money';
    };
    form.addEventListener('change', sync);
    sync();
    const f = h('form', { class: 'visit-form', novalidate: true },
      ...field(`${p}-date`, 'oc.camp.visitedOn', date), ...field(`${p}-form`, 'oc.camp.form', form),
      amountRow, goodsRow, ...field(`${p}-note`, 'oc.camp.note', note), error, save);
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(save, async () => {
        clearText(error);
        const body = { visited_on: date.value, form: form.value };
        if (!/^\d{4}-\d{2}-\d{2}$/.test(date.value)) return setText(error, 'oc.err.invalid_visited_on');
        if (form.value !== 'goods') {
          const fen = parseYuan(amount.value);
          if (fen == null) return setText(error, 'oc.err.invalid_amount');
          body.amount_fen = fen;
        }
        if (form.value !== 'money') {
          if (!goods.value.trim() || goods.value.trim().length > 200) return setText(error, 'oc.camp.goodsRequired');
          body.goods = goods.value.trim();
        }
        if (note.value.trim()) body.note = note.value.trim();
        try {
          const next = await api.post(`/campaigns/${id}/visits/${v.id}/done`, body);
          redraw({ ...v, ...next, status: next.status || 'done' });
          refreshHead();
        } catch (err) {
          showError(error, err, 'oc');
          if (err.code === 'already_done' || err.code === 'campaign_closed') refreshHead();
        }
        return undefined;
      });
    });
    return f;
  }
}
