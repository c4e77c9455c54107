// 申请服务: the request form of one service, with the fields of its kind. Health,
// family or money details (hardship, counseling) first ask for separate consent.
import * as api from '../../api.js';
import { setText, clearText } from '../../i18n/index.js';
import '../../i18n/cases.js';
import { h, empty, load, busy, kindBadge, showError, parseYuan, CATEGORIES } from '../../kit.js';

export const titleKey = 'title.apply';

// Stored as the Chinese words: the officer reads them as they are.
const TIMES = ['any', 'morning', 'afternoon', 'evening', 'weekend'];
const MATTERS = ['contract', 'wages', 'injury', 'insurance', 'other'];
const TIME_ZH = { any: '随时都可以', morning: '上午', afternoon: '下午', evening: '晚上', weekend: '周末' };
const MATTER_ZH = { contract: '劳动合同', wages: '工资拖欠', injury: '工伤', insurance: '社会保险', other: '其他' };

export function render(root, ctx) {
  const id = ctx.params[0];
  const box = h('div', { id: 'apply' });
  root.append(h('p', {}, h('a', { class: 'back', href: '/services', i18n: 'nav.services' })), box);
  load(box, () => api.get(`/services/${id}`), (s) => {
    box.append(h('h2', { id: 'service-title' }, s.title), h('p', {}, kindBadge(s.kind), ' ', s.org_name || ''));
    if (s.can_apply === false || s.active === false) {
      box.append(h('p', { class: 'error', id: 'apply-cannot', i18n: s.active === false ? 'svc.inactive' : 'svc.onlyMembers' }));
      return;
    }
    const step = h('div');
    box.append(step);
    if (s.kind === 'hardship' || s.kind === 'counseling') consent(step, (version) => form(step, s, version, ctx));
    else form(step, s, null, ctx);
  });
}

function consent(step, next) {
  load(step, () => api.get('/consents/sensitive'), (c) => {
    const tick = h('input', { type: 'checkbox', id: 'consent-agree' });
    const error = h('p', { class: 'error', role: 'alert', id: 'consent-error' });
    const go = h('button', { type: 'button', class: 'primary', id: 'consent-next', i18n: 'apply.next' });
    go.addEventListener('click', () => {
      if (!tick.checked) {
        setText(error, 'apply.mustAgree');
        tick.focus();
        return;
      }
      next(c.version);
    });
    tick.addEventListener('change', () => clearText(error));
    step.append(h('section', { class: 'card', id: 'consent' },
      h('h3', { i18n: 'apply.consentTitle' }),
      h('p', { class: 'muted', i18n: 'apply.consentWhy' }),
      h('div', { class: 'pre', id: 'consent-text' }, c.text),
      h('label', { class: 'choice' }, tick, h('span', { i18n: 'apply.agree' })),
      go, error));
  });
}

function select(id, label, prefix, codes) {
  const el = h('select', { id, name: id },
    h('option', { value: '', i18n: 'apply.pick' }),
    ...codes.map((c) => h('option', { value: c, i18n: `${prefix}.${c}` })));
  return [h('label', { for: id, i18n: label }), el];
}

function form(step, s, version, ctx) {
  // One key per filled-in form: a retry after a lost answer makes no second case,
  // and a changed form is a new request (the server refuses an old key for it).
  let key = api.newKey();
  const fields = h('div');
  const desc = h('textarea', { id: 'description', rows: 6, maxlength: 4000, 'aria-describedby': 'description-hint' });
  let category;
  let amount;
  let extra;
  if (s.kind === 'hardship') {
    const [l, sel] = select('category', 'apply.category', 'apply.cat', CATEGORIES);
    category = sel;
    amount = h('input', { id: 'amount', inputmode: 'decimal', autocomplete: 'off', 'aria-describedby': 'amount-hint' });
    fields.append(l, sel, h('label', { for: 'amount', i18n: 'apply.amount' }), amount,
      h('p', { class: 'hint', id: 'amount-hint', i18n: 'apply.amountHint' }));
  } else if (s.kind === 'counseling') {
    const [l, sel] = select('contact-time', 'apply.contactTime', 'apply.time', TIMES);
    extra = { name: 'contact_time', el: sel, words: TIME_ZH };
    fields.append(l, sel);
  } else if (s.kind === 'legal_aid' || s.kind === 'rights') {
    const [l, sel] = select('matter', 'apply.matter', 'apply.matter', MATTERS);
    extra = { name: 'matter', el: sel, words: MATTER_ZH };
    fields.append(l, sel);
  }
  fields.append(h('label', { for: 'description', i18n: 'apply.description' }), desc,
    h('p', { class: 'hint', id: 'description-hint', i18n: 'apply.descHint' }));
  const submit = h('button', { type: 'submit', class: 'primary', id: 'apply-submit', i18n: 'apply.submit' });
  const status = h('p', { class: 'muted', role: 'status', id: 'apply-status' });
  const error = h('p', { class: 'error', role: 'alert', id: 'apply-error' });
  const f = h('form', { class: 'card', id: 'apply-form', novalidate: true },
    fields, h('p', { class: 'muted', i18n: 'apply.who' }), submit, status, error);

  const invalid = (el, msg) => {
    el.setAttribute('aria-invalid', 'true');
    setText(error, msg);
    el.focus();
    return null;
  };
  function body() {
    for (const el of [desc, category, amount]) if (el) el.removeAttribute('aria-invalid');
    const out = { service_id: s.id };
    if (category) {
      if (!category.value) return invalid(category, 'apply.badCategory');
      const fen = parseYuan(amount.value);
      if (fen == null) return invalid(amount, 'apply.badAmount');
      out.amount_requested_fen = fen;
      out.details = { category: category.value };
    }
    if (extra && extra.el.value) out.details = { [extra.name]: extra.words[extra.el.value] };
    const text = desc.value.trim();
    if (!text || text.length > 4000) return invalid(desc, 'apply.badDescription');
    out.description = text;
    if (version) out.consent = { version };
    return out;
  }

  f.addEventListener('input', () => { key = api.newKey(); });
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, async () => {
      clearText(error);
      const b = body();
      if (!b) return;
      setText(status, 'apply.sending');
      try {
        const c = await api.post('/cases', b, { 'Idempotency-Key': key });
        ctx.navigate(`/cases/${c.id}?new=1`, true);
      } catch (err) {
        clearText(status);
        showError(error, err, 'case');
      }
    });
  });
  empty(step).append(f);
  if (version) (category || desc).focus();
}
