const VERSION = '__SHELL_VERSION__';
// The server swaps VERSION for a hash of the shell files, so any change to them
// installs a fresh cache and the old one is dropped on activate.
const CACHE = `qunjia-shell-${VERSION}`;
const SHELL = [
  '/',
  '/index.html',
  '/app.js',
  '/api.js',
  '/i18n/index.js',
  '/kit.js',
  '/views/login.js',
  '/views/home.js',
  '/views/worker/join.js',
  '/views/worker/myorgs.js',
  '/views/worker/findorgs.js',
  '/queue.js',
  '/views/worker/checkin.js',
  '/views/worker/checkins.js',
  '/views/worker/scan.js',
  '/views/worker/activities.js',
  '/style.css',
  '/manifest.webmanifest',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/maskable-512.png',
];

// Officer screens: most phones never open them, so they are not precached (a
// worker's first visit stays small); they are cached the first time they load.
const ON_DEMAND = [
  '/views/officer/admin.js',
  '/views/officer/approvals.js',
  '/views/officer/orgs.js',
  '/views/officer/org.js',
  '/views/officer/poster.js',
  '/views/officer/units.js',
  '/views/officer/coverage.js',
  '/views/officer/kiosk.js',
  '/views/officer/adminactivities.js',
  // Services, cases and the inbox: opened now and then, not on every visit.
  '/i18n/cases.js',
  '/views/worker/myservices.js',
  '/views/worker/apply.js',
  '/views/worker/mycases.js',
  '/views/worker/mycase.js',
  '/views/worker/inbox.js',
  // Officer screens for services, cases and holiday campaigns.
  '/i18n/officer-cases.js',
  '/officer-cases.css',
  '/views/officer/adminservices.js',
  '/views/officer/admincases.js',
  '/views/officer/casestats.js',
  '/views/officer/admincase.js',
  '/views/officer/admincampaigns.js',
  '/views/officer/admincampaign.js',
  // The audit log of region admins.
  '/i18n/audit.js',
  '/views/officer/audit.js',
  // The QR decoder for browsers without BarcodeDetector, loaded by /scan when needed.
  '/vendor/qrdecode.js',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      // cache: 'reload' skips the HTTP cache, so a new version never precaches stale files.
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((k) => k.startsWith('qunjia-shell-') && k !== CACHE).map((k) => caches.delete(k)),
      ))
      .then(() => self.clients.claim()),
  );
});

function fromCache(request) {
  return caches.open(CACHE).then((cache) => cache.match(request));
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  // API answers are personal and must be fresh: network only, never cached.
  if (path === '/api' || path.startsWith('/api/')) return;
  if (path.startsWith('/health') || path.startsWith('/metrics')) return;

  if (req.mode === 'navigate') {
    // Client routes all render from index.html; cache first keeps the app
    // opening instantly on a bad network or none at all.
    event.respondWith(fromCache('/index.html').then((hit) => hit || fetch(req)));
    return;
  }
  if (SHELL.includes(path)) {
    event.respondWith(fromCache(path).then((hit) => hit || fetch(req)));
  } else if (ON_DEMAND.includes(path)) {
    event.respondWith(fromCache(path).then((hit) => hit || fetch(req).then((res) => {
      if (res.ok) {
        const copy = res.clone();
        caches.open(CACHE).then((cache) => cache.put(path, copy));
      }
      return res;
    })));
  }
});
