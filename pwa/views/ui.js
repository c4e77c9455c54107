// Small DOM helpers shared by the views.
import { setText, setAttrs, clearText, errorKey } from '../i18n.js';

/**
 * h('button', {id: 'x', i18n: 'key', args: {...}, i18nAttr: {placeholder: 'key'}, onclick: fn}, ...children)
 * Plain strings as children are user data (names), never UI text.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false || k === 'args') continue;
    if (k === 'i18n') setText(el, v, props.args);
    else if (k === 'i18nAttr') setAttrs(el, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c != null && c !== false) el.append(c);
  return el;
}

/** Removes all children (replaceChildren needs Chrome 86; cheap phones run older WebViews). */
export function empty(el) {
  el.textContent = '';
  return el;
}

export function showError(el, err) {
  const [key, params] = errorKey(err);
  setText(el, key, params);
}

export { clearText as clearError };

/**
 * Runs fn with the button disabled and marked busy; a click (or Enter) while
 * a request is in flight is ignored, so nothing is submitted twice.
 */
export async function busy(button, fn) {
  if (button.disabled || button.getAttribute('aria-busy') === 'true') return undefined;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** Full-width digits and plus sign (Chinese IMEs) to ASCII. */
export function asciiDigits(s) {
  return s.replace(/[\uFF10-\uFF19\uFF0B]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0));
}

/** 138 1234 5678, 138-1234-5678, +86 138… → 13812345678, or null if not a mainland mobile. */
export function normalizePhone(raw) {
  let d = asciiDigits(raw).replace(/[\s\-()]/g, '');
  if (d.startsWith('+86')) d = d.slice(3);
  else if (/^86\d{11}$/.test(d)) d = d.slice(2);
  return /^1[3-9]\d{9}$/.test(d) ? d : null;
}

export function maskPhone(phone) {
  const d = String(phone || '').replace(/\D/g, '').slice(-11);
  return d.length === 11 ? `${d.slice(0, 3)}****${d.slice(7)}` : String(phone || '');
}
