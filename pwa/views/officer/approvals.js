// 入会审核: pending members of the organizations this officer runs — the orgs
// of the org_admin roles, and for a region admin the orgs of the region(s).
import * as api from '../../api.js';
import { setText, formatTime } from '../../i18n/index.js';
import { h, empty, busy, load, showError, clearError, scopeIds } from '../../kit.js';

export const titleKey = 'title.approvals';

/** At most this many region orgs are listed (GET /orgs pages of 100). */
const ORG_CAP = 200;
/** Up to this many orgs, all are checked at once; with more the admin picks one. */
const AUTO = 20;
/** Parallel requests while checking many orgs. */
const PARALLEL = 4;

/** Runs fn over items, a few at a time; onDone after each. */
async function inPool(items, fn, onDone) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
      onDone();
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  return out;
}

/** Live orgs of a region's subtree, paging through next_cursor up to ORG_CAP. */
async function regionOrgs(regionId) {
  const out = [];
  let cursor = null;
  do {
    const page = await api.get(`/orgs?region_id=${regionId}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...(page.items || []));
    cursor = page.next_cursor;
  } while (cursor && out.length < ORG_CAP);
  return { items: out.slice(0, ORG_CAP), capped: Boolean(cursor) || out.length > ORG_CAP };
}

/** The orgs this user may approve for: {orgs, capped}. */
async function managedOrgs(user, only) {
  if (only) return { orgs: [await api.get(`/orgs/${only}`)], capped: false };
  const byId = new Map();
  let capped = false;
  for (const rid of scopeIds(user, 'admin', 'region')) {
    const r = await regionOrgs(rid);
    capped = capped || r.capped;
    for (const o of r.items) byId.set(o.id, o);
  }
  const direct = scopeIds(user, 'org_admin', 'org').filter((id) => !byId.has(id));
  for (const o of await Promise.all(direct.map((id) => api.get(`/orgs/${id}`)))) byId.set(o.id, o);
  return { orgs: [...byId.values()], capped };
}

function pendingOf(org) {
  return api.get(`/orgs/${org.id}/members?status=pending&limit=100`)
    .then((page) => ({ org, items: page.items || [], more: Boolean(page.next_cursor) }));
}

export function render(root, ctx) {
  // ?org=<id> (the link on an org's page): that org only.
  const asked = new URLSearchParams(location.search).get('org') || '';
  const only = /^\d+$/.test(asked) ? asked : null;
  const box = h('div', { id: 'approvals' });
  root.append(h('h2', { i18n: 'admin.approvals' }), box);
  let gone = false;
  load(box, () => managedOrgs(ctx.user, only), start);
  return () => { gone = true; };

  function start({ orgs, capped }) {
    if (!orgs.length) {
      box.append(h('p', { id: 'approvals-empty', class: 'card', i18n: 'approvals.empty' }));
      return;
    }
    const list = h('div', { id: 'approval-groups' });
    if (capped) box.append(h('p', { class: 'hint', i18n: 'approvals.capped', args: { n: ORG_CAP } }));
    if (orgs.length <= AUTO) {
      box.append(list);
      scan(orgs, list, Boolean(only));
      return;
    }
    // Many orgs: asking each one takes a while, so the admin picks one (or asks all).
    const select = h('select', { id: 'approval-org' }, ...orgs.map((o) => h('option', { value: o.id }, o.name)));
    const show = h('button', { id: 'approval-show', type: 'button', class: 'primary', i18n: 'approvals.show' });
    const all = h('button', { id: 'approval-all', type: 'button', i18n: 'approvals.checkAll', args: { n: orgs.length } });
    show.addEventListener('click', () => scan([orgs.find((o) => String(o.id) === select.value)], list, true));
    all.addEventListener('click', () => scan(orgs, list, false));
    box.append(h('div', { class: 'card' },
      h('p', { class: 'hint', i18n: 'approvals.many', args: { n: orgs.length } }),
      h('label', { for: 'approval-org', i18n: 'approvals.pickOrg' }), select, show, all), list);
  }

  function scan(orgs, list, single) {
    let done = 0;
    const status = h('p', { class: 'muted', role: 'status', 'aria-busy': 'true' });
    const progress = () => setText(status, 'approvals.checking', { done, total: orgs.length });
    const fetcher = async () => {
      empty(list).append(status);
      progress();
      return inPool(orgs, pendingOf, () => { done += 1; if (!gone) progress(); });
    };
    // load() shows its own spinner first; the progress line replaces it.
    load(list, fetcher, (groups) => draw(groups, list, single));
  }

  function draw(groups, list, single) {
    const withItems = groups.filter((g) => g.items.length);
    if (!withItems.length) {
      list.append(h('p', { id: 'approvals-empty', class: 'card', i18n: single ? 'approvals.emptyOrg' : 'approvals.empty' }));
      return;
    }
    for (const { org, items, more } of withItems) {
      list.append(h('h3', {}, org.name), h('ul', { class: 'items' }, ...items.map(item)),
        more ? h('p', { class: 'hint', i18n: 'approvals.more' }) : null);
    }
  }

  function item(m) {
    const error = h('p', { class: 'error', role: 'alert' });
    const done = h('p', { class: 'ok', role: 'status' });
    const actions = h('div', { class: 'row' });
    const li = h('li', { class: 'card', 'data-membership-id': m.id },
      h('p', { class: 'chosen' }, m.name || '—', ' ', h('span', { class: 'muted' }, m.phone || '')),
      m.requested_at ? h('p', { class: 'hint', i18n: 'approvals.requested', args: { time: formatTime(m.requested_at) } }) : null,
      actions, done, error);
    choose();
    return li;

    function choose() {
      const ok = h('button', { type: 'button', class: 'primary approve', i18n: 'approvals.approve' });
      ok.addEventListener('click', () => busy(ok, () => decide('approve', {}, 'approvals.approved')));
      empty(actions).append(ok, h('button', { type: 'button', class: 'reject', i18n: 'approvals.reject', onclick: askReason }));
    }

    function askReason() {
      const id = `reason-${m.id}`;
      const input = h('input', { id, type: 'text', maxlength: '200', required: true });
      const yes = h('button', { type: 'button', class: 'primary confirm-reject', i18n: 'approvals.confirmReject' });
      yes.addEventListener('click', () => busy(yes, async () => {
        const reason = input.value.trim();
        if (!reason) {
          showError(error, { code: 'reason_required' });
          input.setAttribute('aria-invalid', 'true');
          input.focus();
          return;
        }
        await decide('reject', { reason }, 'approvals.rejected');
      }));
      empty(actions).append(
        h('label', { for: id, class: 'full', i18n: 'approvals.reason' }), input, yes,
        h('button', { type: 'button', i18n: 'app.cancel', onclick: () => { clearError(error); choose(); } }));
      input.focus();
    }

    async function decide(action, body, doneKey) {
      clearError(error);
      try {
        await api.post(`/memberships/${m.id}/${action}`, body);
        empty(actions);
        setText(done, doneKey);
      } catch (err) {
        showError(error, err);
      }
    }
  }
}
