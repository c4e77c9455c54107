// 活动与签到 (officers): create an activity for an org I manage; the list with
// counts, the kiosk link, attendance (CSV, undo, manual check-in by phone) and
// the failed-scan log.
import * as api from '../../api.js';
import { formatTime, setText, clearText } from '../../i18n/index.js';
import { reasonKey } from '../worker/checkin.js';
import {
  h, empty, load, busy, showError, scopeIds, maskPhone, normalizePhone, downloadButton, toMs, field, ACTIVITY_KINDS,
} from '../../kit.js';

export const titleKey = 'title.adminActivities';

export function render(root, ctx) {
  const orgIds = scopeIds(ctx.user, 'org_admin', 'org');
  const list = h('div', { id: 'aa-list' });
  root.append(h('h2', { i18n: 'admin.activities' }));
  if (orgIds.length) root.append(createForm(orgIds, () => drawList()));
  else root.append(h('p', { class: 'muted', i18n: 'aa.noOrgs' }));
  root.append(h('h3', { i18n: 'aa.list' }), list);

  function drawList() {
    load(list, () => api.get('/activities?limit=50'), (data) => {
      const items = (data.items || []).filter((a) => orgIds.includes(a.org_id) || !orgIds.length);
      if (!items.length) {
        list.append(h('p', { class: 'muted', i18n: 'act.empty' }));
        return;
      }
      for (const a of items) list.append(activityCard(a));
    });
  }
  drawList();
}

function createForm(orgIds, done) {
  const org = h('select', { id: 'aa-org' }, ...orgIds.map((id) => h('option', { value: id }, `#${id}`)));
  orgIds.forEach((id, i) => api.get(`/orgs/${id}`).then((o) => { org.options[i].textContent = o.name; }, () => {}));
  const title = h('input', { id: 'aa-title', required: true, maxlength: 100 });
  const kind = h('select', { id: 'aa-kind' }, ...ACTIVITY_KINDS.map((k) => h('option', { value: k, i18n: `act.kind.${k}` })));
  const starts = h('input', { id: 'aa-starts', type: 'datetime-local', required: true });
  const ends = h('input', { id: 'aa-ends', type: 'datetime-local', required: true });
  const cap = h('input', { id: 'aa-capacity', type: 'number', min: 1, inputmode: 'numeric' });
  const signup = h('input', { id: 'aa-signup', type: 'checkbox' });
  const pub = h('input', { id: 'aa-public', type: 'checkbox' });
  const msg = h('p', { class: 'ok', role: 'status' });
  const error = h('p', { class: 'error', role: 'alert' });
  const submit = h('button', { id: 'aa-submit', type: 'submit', class: 'primary', i18n: 'aa.submit' });
  const form = h('form', { id: 'aa-form', class: 'card' },
    h('h3', { i18n: 'aa.create' }),
    ...field('aa-org', 'aa.org', org), ...field('aa-title', 'aa.title', title), ...field('aa-kind', 'aa.kind', kind),
    ...field('aa-starts', 'aa.starts', starts), ...field('aa-ends', 'aa.ends', ends), ...field('aa-capacity', 'aa.capacity', cap),
    h('label', { class: 'choice' }, signup, h('span', { i18n: 'aa.signupRequired' })),
    h('label', { class: 'choice' }, pub, h('span', { i18n: 'aa.public' })),
    submit, msg, error);
  let key = api.newKey();
  form.addEventListener('input', () => { key = api.newKey(); });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearText(msg);
    clearText(error);
    // datetime-local is the phone's local time; the API wants RFC 3339.
    const iso = (v) => (v ? new Date(v).toISOString() : '');
    busy(submit, async () => {
      try {
        await api.post('/activities', {
          org_id: Number(org.value), title: title.value.trim(), kind: kind.value,
          starts_at: iso(starts.value), ends_at: iso(ends.value),
          capacity: cap.value ? Number(cap.value) : null,
          signup_required: signup.checked, audience: pub.checked ? 'public' : 'members',
        }, { 'Idempotency-Key': key });
        setText(msg, 'aa.created');
        form.reset();
        key = api.newKey();
        done();
      } catch (err) {
        showError(error, err);
      }
    });
  });
  return form;
}

function activityCard(a) {
  const detail = h('div', { class: 'aa-detail', hidden: true });
  const toggle = h('button', { type: 'button', i18n: 'aa.attendance' });
  const error = h('p', { class: 'error', role: 'alert' });
  toggle.addEventListener('click', () => {
    detail.hidden = !detail.hidden;
    if (!detail.hidden) attendance(a, detail);
  });
  return h('section', { class: 'card', 'data-id': a.id },
    h('h3', {}, a.title),
    h('p', { class: 'muted' }, `#${a.id} · ${formatTime(toMs(a.starts_at))}`),
    h('p', { i18n: 'act.checkedIn', args: { n: a.checked_in } }),
    h('p', { i18n: 'act.count', args: { n: a.signed_up } }),
    h('a', { class: 'btn', href: `/kiosk/${a.id}`, i18n: 'aa.kiosk' }),
    downloadButton(`aa-csv-${a.id}`, 'aa.csv', `/activities/${a.id}/attendance.csv`, `attendance-${a.id}.csv`, error),
    toggle, error, detail);
}

function attendance(a, box) {
  const rows = h('div');
  const fails = h('div');
  const phone = h('input', { type: 'tel', inputmode: 'tel', autocomplete: 'off', i18nAttr: { placeholder: 'aa.phone' } });
  const reason = h('input', { maxlength: 200, i18nAttr: { placeholder: 'aa.reason' } });
  const go = h('button', { type: 'submit', class: 'primary', i18n: 'aa.manualSubmit' });
  const msg = h('p', { class: 'ok', role: 'status' });
  const error = h('p', { class: 'error', role: 'alert' });
  const manual = h('form', {}, h('h4', { i18n: 'aa.manual' }), phone, reason, go, msg, error);
  manual.addEventListener('submit', (e) => {
    e.preventDefault();
    clearText(msg);
    clearText(error);
    const p = normalizePhone(phone.value);
    if (!p) return setText(error, 'err.invalid_phone');
    if (!reason.value.trim()) return setText(error, 'aa.reasonRequired');
    busy(go, async () => {
      try {
        await api.post(`/activities/${a.id}/checkins/manual`, { phone: p, reason: reason.value.trim() }, { 'Idempotency-Key': api.newKey() });
        setText(msg, 'aa.done');
        drawRows();
      } catch (err) {
        showError(error, err);
      }
    });
    return undefined;
  });
  empty(box).append(rows, manual, h('h4', { i18n: 'aa.failures' }), fails);

  function drawRows() {
    load(rows, () => api.get(`/activities/${a.id}/attendance?limit=100`), (d) => {
      rows.append(h('p', { i18n: 'act.checkedIn', args: { n: d.checked_in } }));
      const ul = h('ul', { class: 'list-plain' });
      for (const c of d.items || []) {
        const li = h('li', {}, `${c.name || ''} ${maskPhone(c.phone)} · ${formatTime(toMs(c.checked_in_at))}`);
        if (c.undone_at) li.append(' · ', h('span', { class: 'muted', i18n: 'aa.undone' }), ` ${c.undo_reason || ''}`);
        else li.append(undoButton(c, drawRows));
        ul.append(li);
      }
      rows.append(ul);
    });
  }
  drawRows();
  load(fails, () => api.get(`/activities/${a.id}/checkin-failures?limit=100`), (d) => {
    const ul = h('ul', { class: 'list-plain' });
    for (const f of d.items || []) ul.append(h('li', {}, `${f.name || `#${f.user_id}`} · ${formatTime(toMs(f.at))} · `, h('span', { class: 'error', i18n: reasonKey(f.reason, f.method) })));
    fails.append(ul);
  });
}

function undoButton(c, redraw) {
  const reason = h('input', { maxlength: 200, i18nAttr: { placeholder: 'aa.undoReason' } });
  const b = h('button', { type: 'button', i18n: 'aa.undo' });
  const error = h('span', { class: 'error', role: 'alert' });
  b.addEventListener('click', () => {
    clearText(error);
    if (!reason.value.trim()) return setText(error, 'aa.reasonRequired');
    return busy(b, async () => {
      try {
        await api.post(`/checkins/${c.id}/undo`, { reason: reason.value.trim() }, { 'Idempotency-Key': api.newKey() });
        redraw();
      } catch (err) {
        showError(error, err);
      }
    });
  });
  return h('div', {}, reason, b, error);
}
