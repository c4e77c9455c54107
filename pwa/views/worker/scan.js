// 扫码签到: the in-app scanner (BarcodeDetector, else a QR decoder loaded only
// now), and the short code typed by hand. A scanned /c/<token> URL goes the
// same way as one opened by the phone's own camera.
import { setText, clearText } from '../../i18n/index.js';
import { h, busy, asciiDigits } from '../../kit.js';
import * as queue from '../../queue.js';
import { run } from './checkin.js';

export const titleKey = 'title.scan';

const TOKEN_PATH = /\/c\/([A-Za-z0-9._~-]{1,512})$/;

/** The check-in path in a scanned text, or null. */
export function checkinPath(text) {
  try {
    const m = TOKEN_PATH.exec(new URL(text.trim(), location.origin).pathname);
    return m ? `/c/${m[1]}` : null;
  } catch {
    return null;
  }
}

async function detector() {
  if ('BarcodeDetector' in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes('qr_code')) {
        const d = new window.BarcodeDetector({ formats: ['qr_code'] });
        return async (video) => ((await d.detect(video))[0] || {}).rawValue || null;
      }
    } catch {
      // Fall through to the decoder.
    }
  }
  const { default: decode } = await import('../../vendor/qrdecode.js');
  const canvas = document.createElement('canvas');
  const g = canvas.getContext('2d', { willReadFrequently: true });
  return async (video) => {
    // Small frames: a cheap phone decodes 320 px in a few tens of ms.
    const scale = Math.min(1, 480 / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    if (!canvas.width) return null;
    g.drawImage(video, 0, 0, canvas.width, canvas.height);
    const img = g.getImageData(0, 0, canvas.width, canvas.height);
    const r = decode(img.data, img.width, img.height, { inversionAttempts: 'dontInvert' });
    return r ? r.data : null;
  };
}

export function render(root, ctx) {
  const video = h('video', { class: 'scan-video', playsinline: true, muted: true, hidden: true });
  const msg = h('p', { id: 'scan-status', class: 'muted', role: 'status' });
  const start = h('button', { id: 'scan-start', type: 'button', class: 'primary', i18n: 'scan.start' });
  const stopBtn = h('button', { id: 'scan-stop', type: 'button', i18n: 'scan.stop', hidden: true });
  const idInput = h('input', { id: 'short-activity', inputmode: 'numeric', autocomplete: 'off', required: true });
  const codeInput = h('input', { id: 'short-code', autocomplete: 'off', autocapitalize: 'characters', maxlength: 6, required: true, i18nAttr: { placeholder: 'scan.codePh' } });
  const formError = h('p', { id: 'short-error', class: 'error', role: 'alert' });
  const submit = h('button', { id: 'short-submit', type: 'submit', class: 'primary', i18n: 'scan.submit' });
  const result = h('div', { id: 'checkin-box' });
  const form = h('form', { id: 'short-form', class: 'card', novalidate: true },
    h('h3', { i18n: 'scan.manual' }),
    h('label', { for: 'short-activity', i18n: 'scan.activityId' }), idInput,
    h('label', { for: 'short-code', i18n: 'scan.code' }), codeInput,
    submit, formError);
  root.append(h('h2', { i18n: 'nav.scan' }),
    h('section', { class: 'card' }, video, msg, start, stopBtn), form, result);

  let stream = null;
  let timer = null;
  let alive = true;
  function stop() {
    clearTimeout(timer);
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    video.hidden = true;
    stopBtn.hidden = true;
    start.hidden = false;
  }

  start.addEventListener('click', () => busy(start, async () => {
    clearText(msg);
    let detect;
    try {
      setText(msg, 'scan.loading');
      [detect, stream] = await Promise.all([
        detector(),
        navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false }),
      ]);
      if (!alive) return stop();
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
    } catch {
      stop();
      setText(msg, 'scan.noCamera');
      return undefined;
    }
    setText(msg, 'scan.hint');
    start.hidden = true;
    stopBtn.hidden = false;
    const tick = async () => {
      if (!stream) return;
      let text = null;
      try {
        if (video.readyState >= 2) text = await detect(video);
      } catch {
        // A frame that could not be read: try the next one.
      }
      if (!stream) return;
      if (text) {
        const path = checkinPath(text);
        if (path) {
          stop();
          ctx.navigate(path);
          return;
        }
        setText(msg, 'scan.notOurs');
      }
      timer = setTimeout(tick, 250);
    };
    tick();
    return undefined;
  }));
  stopBtn.addEventListener('click', stop);

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearText(formError);
    const id = asciiDigits(idInput.value).trim();
    const code = asciiDigits(codeInput.value).replace(/\s/g, '').toUpperCase();
    if (!/^\d{1,12}$/.test(id) || !/^[A-Z0-9]{6}$/.test(code)) {
      setText(formError, 'scan.badCode');
      return;
    }
    busy(submit, () => run(result, queue.attempt({ activity_id: Number(id), short_code: code })));
  });

  return () => {
    alive = false;
    stop();
  };
}
