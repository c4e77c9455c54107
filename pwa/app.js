// Entry point: service worker, session restore, the router, header controls.
import * as api from './api.js';
import { t, getLang, setLang, translateAll } from './i18n/index.js';
import { h, empty, showError, isOfficer, PENDING_JOIN, PENDING_CHECKIN, readJson } from './kit.js';
import * as queue from './queue.js';
import * as loginView from './views/login.js';
import * as homeView from './views/home.js';

const root = document.getElementById('app');
const banner = document.getElementById('offline-banner');
const langToggle = document.getElementById('lang-toggle');
const nav = document.getElementById('nav');

let user = null;
let newUser = false;
let flash = null;
let netFailed = false;
let booted = false;
let cleanup = null;
let view = null;
let seq = 0;
// A signed-in page asked for while signed out: shown again after login.
let returnTo = null;

// access: 'guest' (signed out only), 'public', 'user', 'officer' (admin or org_admin).
// Views other than login and home load on first use, so a worker's phone
// never parses the officer screens.
const ROUTES = [
  [/^\/login$/, 'guest', () => loginView],
  [/^\/$/, 'user', () => homeView],
  [/^\/join\/([A-Za-z0-9_-]{1,32})$/, 'public', () => import('./views/worker/join.js')],
  [/^\/c\/([A-Za-z0-9._~-]{1,512})$/, 'public', () => import('./views/worker/checkin.js')],
  [/^\/checkins$/, 'user', () => import('./views/worker/checkins.js')],
  [/^\/scan$/, 'user', () => import('./views/worker/scan.js')],
  [/^\/activities$/, 'user', () => import('./views/worker/activities.js')],
  [/^\/services$/, 'user', () => import('./views/worker/myservices.js')],
  [/^\/services\/(\d+)\/apply$/, 'user', () => import('./views/worker/apply.js')],
  [/^\/cases$/, 'user', () => import('./views/worker/mycases.js')],
  [/^\/cases\/(\d+)$/, 'user', () => import('./views/worker/mycase.js')],
  [/^\/inbox$/, 'user', () => import('./views/worker/inbox.js')],
  // The server decides who may show a kiosk (org or centre admins).
  [/^\/kiosk\/(\d+)$/, 'user', () => import('./views/officer/kiosk.js')],
  [/^\/admin\/activities$/, 'officer', () => import('./views/officer/adminactivities.js')],
  [/^\/orgs$/, 'user', () => import('./views/worker/myorgs.js')],
  [/^\/orgs\/find$/, 'user', () => import('./views/worker/findorgs.js')],
  [/^\/admin$/, 'officer', () => import('./views/officer/admin.js')],
  [/^\/admin\/approvals$/, 'officer', () => import('./views/officer/approvals.js')],
  [/^\/admin\/orgs$/, 'officer', () => import('./views/officer/orgs.js')],
  [/^\/admin\/orgs\/(\d+)$/, 'officer', () => import('./views/officer/org.js')],
  [/^\/admin\/orgs\/(\d+)\/poster$/, 'officer', () => import('./views/officer/poster.js')],
  [/^\/admin\/units$/, 'officer', () => import('./views/officer/units.js')],
  [/^\/admin\/coverage$/, 'officer', () => import('./views/officer/coverage.js')],
  [/^\/admin\/services$/, 'officer', () => import('./views/officer/adminservices.js')],
  [/^\/admin\/cases$/, 'officer', () => import('./views/officer/admincases.js')],
  [/^\/admin\/casestats$/, 'officer', () => import('./views/officer/casestats.js')],
  [/^\/admin\/audit$/, 'officer', () => import('./views/officer/audit.js')],
  [/^\/admin\/cases\/(\d+)$/, 'officer', () => import('./views/officer/admincase.js')],
  [/^\/admin\/campaigns$/, 'officer', () => import('./views/officer/admincampaigns.js')],
  [/^\/admin\/campaigns\/(\d+)$/, 'officer', () => import('./views/officer/admincampaign.js')],
];

const NAV = [
  ['/', 'nav.home'],
  ['/orgs', 'nav.myOrgs'],
  ['/activities', 'nav.activities'],
  ['/services', 'nav.services'],
  ['/orgs/find', 'nav.findOrgs'],
  ['/inbox', 'nav.inbox'],
  ['/admin', 'nav.admin'],
];

function updateBanner() {
  banner.hidden = navigator.onLine !== false && !netFailed;
}

function match(path) {
  for (const [re, access, load] of ROUTES) {
    const m = re.exec(path);
    if (m) return { access, load, params: m.slice(1) };
  }
  return null;
}

// Where a path may be shown given the session; null means "show it".
function redirectFor(route, path) {
  if (!route) return user ? '/' : '/login';
  if (route.access === 'guest' && user) return '/';
  if ((route.access === 'user' || route.access === 'officer') && !user) {
    returnTo = path;
    return '/login';
  }
  if (route.access === 'officer' && !isOfficer(user)) return '/';
  return null;
}

function navigate(path, replace = false) {
  if (replace) history.replaceState(null, '', path);
  else if (location.pathname !== path) history.pushState(null, '', path);
  render();
}

function renderNav(path) {
  empty(nav);
  nav.hidden = !user;
  if (!user) {
    unread = 0;
    return;
  }
  for (const [href, key] of NAV) {
    if (href === '/admin' && !isOfficer(user)) continue;
    const current = href === path || (href === '/admin' && path.startsWith('/admin'))
      || (href === '/services' && /^\/(services|cases)\b/.test(path));
    // A span for the label: a language switch keeps the badge.
    nav.append(h('a', { href, 'aria-current': current ? 'page' : null }, h('span', { i18n: key }),
      href === '/inbox' ? h('span', { id: 'inbox-badge', class: 'badge', hidden: !unread }, unread) : null));
  }
  unreadTick();
}

// The 消息 badge: on each route change, back in view, every 60 s, after the inbox reads.
let unread = 0;
async function unreadTick() {
  const b = document.getElementById('inbox-badge');
  if (!b || document.hidden) return;
  try {
    unread = (await api.get('/me/notifications/unread-count')).unread || 0;
  } catch {
    return;
  }
  b.textContent = unread;
  b.hidden = !unread;
}
setInterval(unreadTick, 60000);
document.addEventListener('visibilitychange', unreadTick);
api.events.addEventListener('unread', unreadTick);

async function render(offline = false) {
  const mine = ++seq;
  let path = location.pathname;
  let route = match(path);
  const to = redirectFor(route, path);
  if (to) {
    history.replaceState(null, '', to);
    path = to;
    route = match(to);
  }
  if (cleanup) cleanup();
  cleanup = null;
  let mod;
  try {
    mod = await route.load();
  } catch {
    if (mine === seq) showStartFailure({ code: 'network' }, render);
    return;
  }
  if (mine !== seq) return;
  view = mod;
  renderNav(path);
  document.body.classList.toggle('print-page', Boolean(mod.printPage));
  // The entrance screen: no header, navigation or banner.
  document.body.classList.toggle('kiosk-page', Boolean(mod.kiosk));
  empty(root);
  cleanup = mod.render(root, {
    user,
    newUser,
    flash,
    offline,
    params: route.params,
    pendingJoin: readPending(),
    navigate,
    setUser: (u) => { user = u; },
    signedIn: (u, isNew) => {
      user = u;
      newUser = Boolean(isNew);
      flash = null;
      const pending = readPending();
      const check = readJson(PENDING_CHECKIN);
      const next = check && check.path ? check.path : pending ? `/join/${pending}` : returnTo || '/';
      queue.flush();
      returnTo = null;
      navigate(next, true);
    },
    signedOut: () => { user = null; newUser = false; flash = null; navigate('/login', true); },
  }) || null;
  flash = null;
  document.title = t(view.titleKey);
  window.scrollTo(0, 0);
}

function readPending() {
  try {
    return sessionStorage.getItem(PENDING_JOIN);
  } catch {
    return null;
  }
}

function showStartFailure(err, again = boot) {
  if (cleanup) cleanup();
  cleanup = null;
  view = null;
  const retry = h('button', { id: 'retry', type: 'button', class: 'primary', i18n: 'app.retry', onclick: again });
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
    if (user) queue.flush();
  } catch (err) {
    // A scan while the network is down: the check-in page queues it.
    if (err.code === 'network' && /^\/c\//.test(location.pathname)) {
      render(true);
      return;
    }
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
  navigate('/login', true);
});
window.addEventListener('online', () => {
  updateBanner();
  if (!booted) boot();
  else if (user) queue.flush();
});
window.addEventListener('offline', updateBanner);
// `online` is unreliable on a weak signal (the phone may think it is online all
// along), so queued check-ins are also retried every 20 s while the app is open.
setInterval(() => { if (user) queue.flush(); }, 20000);
window.addEventListener('popstate', () => { if (booted) render(); });
// In-app links change the route without reloading the page.
document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[href^="/"]');
  if (!a || a.hasAttribute('download') || a.target || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  if (!booted) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
});
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
