// Home: greeting, the profile form and log-out.
import * as api from '../api.js';
import { setText, clearText, todayShanghai } from '../i18n/index.js';
import { h, add, busy, empty, showError, clearError, maskPhone, UNIT_KINDS } from '../kit.js';

export const titleKey = 'title.home';

// Brand names are data, saved as typed; the list only speeds up typing.
const PLATFORMS = ['美团', '饿了么', '滴滴出行', '货拉拉', '顺丰同城', '闪送', '曹操出行'];

// API error code → the field to point the user at.
const FIELD_OF = {
  invalid_name: 'profile-name',
  invalid_gender: 'profile-gender',
  invalid_birth_date: 'profile-birth',
  invalid_platform: 'profile-platform',
  platform_required: 'profile-platform',
  invalid_unit: 'unit-search',
};

const SEARCH_DELAY_MS = 400;

export function render(root, ctx) {
  let user = ctx.user;
  let unitId = user.unit_id ?? null;
  let unitName = user.unit_name || null;
  let searchTimer = 0;
  let searchSeq = 0;

  const greeting = h('h2', { id: 'greeting' });
  const error = h('p', { id: 'error', class: 'error', role: 'alert' });
  const saved = h('p', { id: 'saved', class: 'ok', role: 'status' });

  const name = h('input', { id: 'profile-name', name: 'name', type: 'text', maxlength: '50', autocomplete: 'name' });
  const gender = h('select', { id: 'profile-gender', name: 'gender' },
    h('option', { value: '', i18n: 'home.gender.none' }),
    h('option', { value: 'female', i18n: 'home.gender.female' }),
    h('option', { value: 'male', i18n: 'home.gender.male' }));
  const birth = h('input', { id: 'profile-birth', name: 'birth_date', type: 'date', min: '1900-01-01', max: todayShanghai(), autocomplete: 'bday' });

  const workUnit = h('input', { id: 'work-unit', type: 'radio', name: 'work', value: 'unit' });
  const workPlatform = h('input', { id: 'work-platform', type: 'radio', name: 'work', value: 'platform' });

  const unitChosen = h('p', { id: 'unit-chosen', class: 'chosen', tabindex: '-1', 'aria-live': 'polite' });
  const unitSearch = h('input', {
    id: 'unit-search', type: 'search', autocomplete: 'off', enterkeyhint: 'search',
    'aria-describedby': 'unit-hint', 'aria-controls': 'unit-results', i18nAttr: { placeholder: 'home.unitPh' },
  });
  const unitStatus = h('p', { id: 'unit-empty', class: 'muted', role: 'status' });
  const unitResults = h('ul', { id: 'unit-results', class: 'results' });
  const unitBox = h('div', { id: 'unit-box', class: 'sub', hidden: true },
    unitChosen,
    h('label', { for: 'unit-search', i18n: 'home.unit' }),
    unitSearch,
    h('p', { id: 'unit-hint', class: 'hint', i18n: 'home.unitHint' }),
    unitStatus,
    unitResults);

  const platform = h('input', {
    id: 'profile-platform', name: 'platform', type: 'text', list: 'platform-list', maxlength: '50',
    autocomplete: 'off', i18nAttr: { placeholder: 'home.platformPh' },
  });
  const platformBox = h('div', { id: 'platform-box', class: 'sub', hidden: true },
    h('label', { for: 'profile-platform', i18n: 'home.platform' }),
    platform,
    h('datalist', { id: 'platform-list' }, ...PLATFORMS.map((p) => h('option', { value: p }))));

  const saveBtn = h('button', { id: 'save-profile', type: 'submit', class: 'primary', i18n: 'home.save' });
  const logoutBtn = h('button', { id: 'logout', type: 'button', i18n: 'home.logout' });

  const form = h('form', { id: 'profile-form', class: 'card', novalidate: true },
    h('h3', { i18n: 'home.profile' }),
    h('label', { for: 'profile-name', i18n: 'home.name' }), name,
    h('label', { for: 'profile-gender', i18n: 'home.gender' }), gender,
    h('label', { for: 'profile-birth', i18n: 'home.birth' }), birth,
    h('fieldset', {},
      h('legend', { i18n: 'home.work' }),
      h('label', { class: 'choice', for: 'work-unit' }, workUnit, h('span', { i18n: 'home.work.unit' })),
      h('label', { class: 'choice', for: 'work-platform' }, workPlatform, h('span', { i18n: 'home.work.platform' }))),
    unitBox,
    platformBox,
    error,
    saveBtn,
    saved);

  // Sent here by a join that needs a name: saving the name goes back and finishes it.
  const thenJoin = ctx.pendingJoin || null;
  add(root,
    greeting,
    h('p', { class: 'muted', i18n: ctx.newUser || !user.name ? 'home.welcome' : 'home.intro' }),
    thenJoin ? h('p', { id: 'then-join', class: 'chosen', i18n: 'home.thenJoin' }) : null,
    form,
    h('div', { class: 'actions' }, logoutBtn));

  fill();

  form.addEventListener('change', showWorkBox);
  // Anything edited after a save makes "已保存" stale.
  form.addEventListener('input', (e) => {
    clearText(saved);
    e.target.removeAttribute('aria-invalid');
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    save();
  });
  unitSearch.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, SEARCH_DELAY_MS);
  });
  unitSearch.addEventListener('keydown', (e) => {
    // Enter searches now instead of submitting the whole profile.
    if (e.key === 'Enter') {
      e.preventDefault();
      clearTimeout(searchTimer);
      search();
    }
  });
  logoutBtn.addEventListener('click', () => busy(logoutBtn, async () => {
    clearError(error);
    try {
      await api.logout();
      ctx.signedOut();
    } catch (err) {
      showError(error, err);
    }
  }));

  // After a save the radios keep what the user chose (a unit may not be picked yet).
  function fill(setWork = true) {
    setText(greeting, 'home.hello', { name: user.name || maskPhone(user.phone) });
    name.value = user.name || '';
    gender.value = user.gender || '';
    birth.value = user.birth_date || '';
    platform.value = user.platform || '';
    if (setWork) {
      workPlatform.checked = Boolean(user.platform);
      workUnit.checked = !user.platform && user.unit_id != null;
    }
    showChosenUnit();
    showWorkBox();
  }

  function showWorkBox() {
    unitBox.hidden = !workUnit.checked;
    platformBox.hidden = !workPlatform.checked;
  }

  function showChosenUnit() {
    if (unitId == null) setText(unitChosen, 'home.unitNone');
    else if (unitName) setText(unitChosen, 'home.unitChosen', { name: unitName });
    else setText(unitChosen, 'home.unitById', { id: unitId });
  }

  async function search() {
    const q = unitSearch.value.trim();
    // Answers can arrive out of order on a bad network; only the newest counts.
    const seq = ++searchSeq;
    empty(unitResults);
    clearText(unitStatus);
    if (q.length < 2) return;
    setText(unitStatus, 'home.searching');
    try {
      const page = await api.lookupUnits(q);
      if (seq !== searchSeq) return;
      const items = (page && page.items) || [];
      if (!items.length) {
        setText(unitStatus, 'home.unitEmpty');
        return;
      }
      clearText(unitStatus);
      for (const unit of items) {
        unitResults.append(h('li', {},
          h('button', { type: 'button', class: 'result', 'data-unit-id': unit.id, onclick: () => pick(unit) },
            unit.name, ' ', UNIT_KINDS.includes(unit.kind) ? h('small', { i18n: `unit.kind.${unit.kind}` }) : null)));
      }
    } catch (err) {
      if (seq !== searchSeq) return;
      clearText(unitStatus);
      showError(error, err);
    }
  }

  function pick(unit) {
    unitId = unit.id;
    unitName = unit.name;
    showChosenUnit();
    empty(unitResults);
    clearText(saved);
    unitSearch.value = '';
    unitChosen.focus();
  }

  function fail(err) {
    showError(error, err);
    const field = FIELD_OF[err.code] && document.getElementById(FIELD_OF[err.code]);
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      field.focus();
    }
  }

  function collect() {
    const body = {
      name: name.value.trim() || null,
      gender: gender.value || null,
      birth_date: birth.value || null,
    };
    if (body.birth_date && (!/^\d{4}-\d{2}-\d{2}$/.test(body.birth_date) || body.birth_date > todayShanghai())) {
      return { error: 'invalid_birth_date' };
    }
    if (workUnit.checked) {
      body.unit_id = unitId;
      body.platform = null;
    } else if (workPlatform.checked) {
      body.platform = platform.value.trim() || null;
      if (!body.platform) return { error: 'platform_required' };
      body.unit_id = null;
    }
    return { body };
  }

  function save() {
    return busy(saveBtn, async () => {
      clearError(error);
      clearText(saved);
      const { body, error: code } = collect();
      if (code) {
        fail({ code });
        return;
      }
      try {
        const fresh = await api.patchMe(body);
        // The PATCH answer may omit unit_name; keep the name the user just picked.
        if (fresh.unit_id === unitId && !fresh.unit_name && unitName) fresh.unit_name = unitName;
        user = fresh;
        unitId = fresh.unit_id ?? null;
        unitName = fresh.unit_name || null;
        ctx.setUser(fresh);
        if (thenJoin && fresh.name) {
          ctx.navigate(`/join/${thenJoin}`, true);
          return;
        }
        fill(false);
        setText(saved, 'home.saved');
      } catch (err) {
        fail(err);
      }
    });
  }

  return () => clearTimeout(searchTimer);
}
