// Check-ins: sent at once, or kept in IndexedDB while the network is down and
// sent when it returns (the `online` event, or the next app start).
// Item: {key (the Idempotency-Key), body ({token} | {activity_id, short_code}),
// scanned_at, status: 'queued' | 'confirmed' | 'failed', code, result, at}.
import * as api from './api.js';

const STORE = 'checkins';
let dbp = null;
/** 'change' fires whenever an item is written. */
export const events = new EventTarget();

function db() {
  if (!dbp) {
    dbp = new Promise((resolve, reject) => {
      const r = indexedDB.open('qunjia', 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: 'key' });
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    dbp.catch(() => { dbp = null; });
  }
  return dbp;
}

function tx(mode, fn) {
  return db().then((d) => new Promise((resolve, reject) => {
    const t = d.transaction(STORE, mode);
    const req = fn(t.objectStore(STORE));
    t.oncomplete = () => resolve(req.result);
    t.onerror = t.onabort = () => reject(t.error);
  }));
}

export function all() {
  return tx('readonly', (s) => s.getAll()).then((items) => items.sort((a, b) => b.at - a.at));
}

async function save(item) {
  await tx('readwrite', (s) => s.put(item));
  events.dispatchEvent(new Event('change'));
}

/** A new check-in attempt: one key and one scan time, kept by every retry. */
export function attempt(body, scannedAt = new Date().toISOString()) {
  return { key: api.newKey(), body, scanned_at: scannedAt, status: 'new', at: Date.now() };
}

/**
 * Sends a check-in. Returns {status: 'confirmed', result} (result.already says a
 * repeat), {status: 'queued'} when the network is down (the item is then kept),
 * or {status: 'failed', code}. Errors that are not about the check-in itself
 * (401, 429, 5xx) leave a queued item queued.
 */
export async function send(item) {
  try {
    const result = await api.post('/checkins', { ...item.body, scanned_at: item.scanned_at }, { 'Idempotency-Key': item.key });
    if (item.status === 'queued') await save({ ...item, status: 'confirmed', result });
    return { status: 'confirmed', result };
  } catch (err) {
    const transient = err.code === 'network' || err.status === 401 || err.status === 429 || err.status >= 500;
    if (err.code === 'network' || (item.status === 'queued' && transient)) {
      try {
        if (item.status !== 'queued') await save({ ...item, status: 'queued' });
        return { status: 'queued' };
      } catch {
        // No IndexedDB (private mode): the person has to scan again.
        return { status: 'failed', code: 'network' };
      }
    }
    if (item.status === 'queued') await save({ ...item, status: 'failed', code: err.code });
    return { status: 'failed', code: err.code, err };
  }
}

let flushing = null;
// A request that arrives during a pass (say, `online` firing while a pass still
// waits on a dead connection) gets a pass of its own afterwards, not the old one.
let again = false;
/** Sends every queued item (one pass at a time; a request during a pass adds one more). */
export function flush() {
  if (flushing) {
    again = true;
    return flushing;
  }
  flushing = (async () => {
    do {
      again = false;
      let items = [];
      try {
        items = await all();
      } catch {
        return;
      }
      for (const item of items) {
        if (item.status !== 'queued') continue;
        const r = await send(item);
        if (r.status === 'queued') break;
      }
    } while (again);
  })().finally(() => { flushing = null; });
  return flushing;
}
