// Login: step 1 asks for the phone and sends an SMS code, step 2 takes the code.
import * as api from '../api.js';
import { setText, clearText } from '../i18n/index.js';
import { h, add, empty, busy, showError, clearError, asciiDigits, normalizePhone, maskPhone } from '../kit.js';

export const titleKey = 'title.login';

export function render(root, ctx) {
  let phone = '';
  let minutes = 5;
  let resendAt = 0;
  let timer = 0;

  const error = h('p', { id: 'error', class: 'error', role: 'alert' });
  const card = h('section', { class: 'card' });
  add(root,
    h('h2', { i18n: 'login.title' }),
    h('p', { class: 'muted', i18n: 'login.intro' }),
    ctx.pendingJoin ? h('p', { id: 'pending-join', class: 'chosen', i18n: 'login.pendingJoin' }) : null,
    error,
    card,
  );
  if (ctx.flash) showError(error, ctx.flash);
  stepPhone();

  function stepPhone() {
    stopCountdown();
    const input = h('input', {
      id: 'phone', name: 'phone', type: 'tel', inputmode: 'numeric', autocomplete: 'tel',
      maxlength: '20', required: true, value: phone || null, i18nAttr: { placeholder: 'login.phonePh' },
    });
    input.addEventListener('input', () => input.removeAttribute('aria-invalid'));
    const button = h('button', { id: 'send-code', type: 'submit', class: 'primary', i18n: 'login.send' });
    const form = h('form', { novalidate: true },
      h('label', { for: 'phone', i18n: 'login.phone' }), input, button);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      sendCode(input, button, false);
    });
    empty(card).append(form);
  }

  async function sendCode(input, button, resend) {
    clearError(error);
    const p = resend ? phone : normalizePhone(input.value);
    if (!p) {
      showError(error, { code: 'invalid_phone' });
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    await busy(button, async () => {
      try {
        const r = await api.requestOtp(p);
        phone = p;
        minutes = Math.max(1, Math.round((r.expires_in || 300) / 60));
        resendAt = Date.now() + (r.resend_after || 60) * 1000;
        if (resend) {
          setText(card.querySelector('#sent-to'), 'login.resentTo', { phone: maskPhone(phone), minutes });
          const code = card.querySelector('#code');
          code.value = '';
          code.focus();
        } else {
          stepCode();
        }
      } catch (err) {
        showError(error, err);
        // Wait as long as the server asks before the next resend is allowed.
        if (resend && err.code === 'rate_limited' && err.retryAfter) resendAt = Date.now() + err.retryAfter * 1000;
      }
    });
    if (resend) tick();
  }

  function stepCode() {
    const code = h('input', {
      id: 'code', name: 'code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code',
      pattern: '[0-9]*', maxlength: '6', required: true, i18nAttr: { placeholder: 'login.codePh' },
    });
    const loginBtn = h('button', { id: 'login', type: 'submit', class: 'primary', i18n: 'login.submit' });
    const resendBtn = h('button', { id: 'resend', type: 'button', i18n: 'login.resend' });
    const form = h('form', { novalidate: true },
      h('p', { id: 'sent-to', i18n: 'login.sentTo', args: { phone: maskPhone(phone), minutes } }),
      h('label', { for: 'code', i18n: 'login.code' }), code, loginBtn,
      h('div', { class: 'row' }, resendBtn, h('span', { id: 'countdown', class: 'muted' })),
      h('button', { id: 'change-phone', type: 'button', class: 'link', i18n: 'login.changePhone', onclick: () => { clearError(error); stepPhone(); } }),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitCode(code, loginBtn);
    });
    resendBtn.addEventListener('click', () => sendCode(null, resendBtn, true));
    empty(card).append(form);
    code.focus();
    tick();
  }

  async function submitCode(input, button) {
    clearError(error);
    const value = asciiDigits(input.value).replace(/\s/g, '');
    if (!/^\d{6}$/.test(value)) {
      showError(error, { code: 'code_format' });
      input.focus();
      return;
    }
    await busy(button, async () => {
      try {
        const r = await api.login(phone, value);
        ctx.signedIn(r.user, r.new_user);
      } catch (err) {
        showError(error, err);
        if (err.code === 'code_locked') input.value = '';
        else input.select();
      }
    });
  }

  // Counts against an absolute deadline: timers in a backgrounded tab are
  // throttled, so counting ticks would drift.
  function tick() {
    const resendBtn = card.querySelector('#resend');
    const countdown = card.querySelector('#countdown');
    if (!resendBtn) return;
    const left = Math.ceil((resendAt - Date.now()) / 1000);
    if (left > 0) {
      resendBtn.disabled = true;
      countdown.hidden = false;
      setText(countdown, 'login.countdown', { n: left });
      if (!timer) timer = setInterval(tick, 1000);
    } else {
      stopCountdown();
      if (resendBtn.getAttribute('aria-busy') !== 'true') resendBtn.disabled = false;
      countdown.hidden = true;
      clearText(countdown);
    }
  }

  function stopCountdown() {
    clearInterval(timer);
    timer = 0;
  }

  return stopCountdown;
}
