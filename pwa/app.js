// Entry point: service worker, session restore, a two-route router, header controls.
import * as api from './api.js';
import { t, getLang, setLang, translateAll } from './i18n.js';
import { h, empty, showError } from './views/ui.js';
import * as loginView from './views/login.js';
import * as homeView from './views/home.js';

const root = document.getElementById('app');
const banner = document.getElementById('offline-banner');
const langToggle = document.getElementById('lang-toggle');

let user = null;
let newUser = false;
let flash = null;
let netFailed = false;
let booted = false;
let cleanup = null;
let view = null;

function updateBanner() {
  banner.hidden = navigator.onLine !== false && !netFailed;
}

// The router has two routes and the session decides between them: signed in
// is always '/', signed out always '/login'; anything else is rewritten.
function render() {
  const path = user ? '/' : '/login';
  if (location.pathname !== path) history.replaceState(null, '', path);
  if (cleanup) cleanup();
  view = user ? homeView : loginView;
  empty(root);
  cleanup = view.render(root, {
    user,
    newUser,
    flash,
    setUser: (u) => { user = u; },
    signedIn: (u, isNew) => { user = u; newUser = Boolean(isNew); flash = null; render(); },
    signedOut: () => { user = null; newUser = false; flash = null; render(); },
  }) || null;
  flash = null;
  document.title = t(view.titleKey);
}

function showStartFailure(err) {
  if (cleanup) cleanup();
  cleanup = null;
  view = null;
  const retry = h('button', { id: 'retry', type: 'button', class: 'primary', i18n: 'app.retry', onclick: boot });
  const error = h('p', { id: 'error', class: 'error', role: 'alert' });
  showError(error, err);
  empty(root).append(h('section', { class: 'card' }, h('p', { i18n: 'app.startFailed' }), error, retry));
}

async function boot() {
  empty(root).append(h('p', { class: 'muted', i18n: 'app.loading' }));
  try {
    user = await api.restoreSession();
    booted = true;
    render();
  } catch (err) {
    // Offline or server trouble: keep the shell up with a retry button rather
    // than a blank page.
    showStartFailure(err);
  }
}

function toggleLanguage() {
  setLang(getLang() === 'zh-CN' ? 'en' : 'zh-CN');
  langToggle.lang = getLang() === 'zh-CN' ? 'en' : 'zh-CN';
  if (view) document.title = t(view.titleKey);
}

api.events.addEventListener('network', (e) => {
  netFailed = !e.detail.ok;
  updateBanner();
});
api.events.addEventListener('logout', () => {
  if (!user) return;
  user = null;
  flash = { code: 'unauthorized' };
  render();
});
window.addEventListener('online', () => {
  updateBanner();
  if (!booted) boot();
});
window.addEventListener('offline', updateBanner);
window.addEventListener('popstate', () => { if (booted) render(); });
langToggle.addEventListener('click', toggleLanguage);

langToggle.lang = getLang() === 'zh-CN' ? 'en' : 'zh-CN';
translateAll(document);
updateBanner();

if ('serviceWorker' in navigator) {
  // updateViaCache 'none': a new sw.js (new shell hash) is seen on the next visit,
  // not after the HTTP cache expires.
  navigator.serviceWorker.register('/sw.js', { scope: '/', updateViaCache: 'none' }).catch(() => {
    // No offline support on this browser or origin; the app still works online.
  });
}

boot();
