// All visible text. zh-CN is the default and the fallback for missing keys.
const TABLE = {
  'zh-CN': {
    'app.name': '群家',
    'app.loading': '正在加载…',
    'app.retry': '重试',
    'app.startFailed': '暂时连不上服务器。',
    'lang.toggle': 'English',
    'lang.switch': 'Switch to English',
    'offline.banner': '网络不可用，部分功能暂时无法使用',
    'title.login': '登录 · 群家',
    'title.home': '我的 · 群家',

    'login.title': '手机号登录',
    'login.intro': '登录后可以加入工会、共青团、妇联，获得帮扶服务。',
    'login.phone': '手机号',
    'login.phonePh': '例如 138 1234 5678',
    'login.send': '获取验证码',
    'login.sentTo': '验证码已发送到 {phone}，{minutes}分钟内有效',
    'login.resentTo': '验证码已重新发送到 {phone}，{minutes}分钟内有效',
    'login.code': '短信验证码',
    'login.codePh': '6位数字',
    'login.submit': '登录',
    'login.resend': '重新发送',
    'login.countdown': '{n}秒后可重新发送',
    'login.changePhone': '更换手机号',

    'home.hello': '你好，{name}',
    'home.welcome': '欢迎加入群家！请先填写你的基本信息。',
    'home.intro': '填写基本信息，方便加入你所在单位或平台的工会等组织。',
    'home.profile': '个人信息',
    'home.name': '姓名',
    'home.gender': '性别',
    'home.gender.none': '未填写',
    'home.gender.female': '女',
    'home.gender.male': '男',
    'home.birth': '出生日期',
    'home.work': '工作情况',
    'home.work.unit': '单位职工',
    'home.work.platform': '平台从业者（外卖骑手、网约车司机等）',
    'home.unit': '搜索所在单位',
    'home.unitPh': '输入单位名称',
    'home.unitHint': '至少输入2个字，点一下结果即可选择',
    'home.unitChosen': '已选择：{name}',
    'home.unitById': '已选择单位（编号 {id}）',
    'home.unitNone': '还没有选择单位',
    'home.unitEmpty': '没有找到这个单位，请换个关键词试试',
    'home.searching': '正在搜索…',
    'home.platform': '平台名称',
    'home.platformPh': '例如 美团、饿了么',
    'home.save': '保存',
    'home.saved': '已保存',
    'home.logout': '退出登录',

    'unit.kind.enterprise': '企业',
    'unit.kind.social_org': '社会组织',
    'unit.kind.association': '行业协会',
    'unit.kind.platform': '平台企业',

    'err.invalid_phone': '请输入正确的手机号',
    'err.rate_limited': '操作太频繁，请{seconds}秒后再试',
    'err.rate_limited_later': '操作太频繁，请稍后再试',
    'err.invalid_code': '验证码不正确',
    'err.code_format': '请输入6位数字验证码',
    'err.code_locked': '错误次数过多，请重新获取验证码',
    'err.sms_unavailable': '短信发送失败，请稍后再试',
    'err.network': '网络不可用，请检查网络后重试',
    'err.unauthorized': '登录已过期，请重新登录',
    'err.forbidden': '没有权限进行这个操作',
    'err.not_found': '没有找到相关内容',
    'err.bad_request': '填写的内容有误，请检查后再试',
    'err.invalid_name': '请填写正确的姓名（不超过50个字）',
    'err.invalid_gender': '请重新选择性别',
    'err.invalid_birth_date': '请填写正确的出生日期',
    'err.invalid_platform': '请填写正确的平台名称',
    'err.platform_required': '请填写你所在的平台',
    'err.invalid_unit': '这个单位不存在，请重新搜索选择',
    'err.generic': '出错了，请稍后再试',
  },
  en: {
    'app.name': '群家 Qunjia',
    'app.loading': 'Loading…',
    'app.retry': 'Try again',
    'app.startFailed': 'Cannot reach the server right now.',
    'lang.toggle': '中文',
    'lang.switch': '切换到中文',
    'offline.banner': 'You are offline. Some features are unavailable.',
    'title.login': 'Log in · Qunjia',
    'title.home': 'My account · Qunjia',

    'login.title': 'Log in with your phone',
    'login.intro': 'Log in to join a trade union, the Youth League or the Women’s Federation and get support.',
    'login.phone': 'Mobile number',
    'login.phonePh': 'e.g. 138 1234 5678',
    'login.send': 'Get code',
    'login.sentTo': 'Code sent to {phone}, valid for {minutes} min',
    'login.resentTo': 'New code sent to {phone}, valid for {minutes} min',
    'login.code': 'SMS code',
    'login.codePh': '6 digits',
    'login.submit': 'Log in',
    'login.resend': 'Resend',
    'login.countdown': 'Resend in {n} s',
    'login.changePhone': 'Use another number',

    'home.hello': 'Hello, {name}',
    'home.welcome': 'Welcome to Qunjia! Please fill in your details first.',
    'home.intro': 'Your details help you join the union of your workplace or platform.',
    'home.profile': 'My details',
    'home.name': 'Name',
    'home.gender': 'Gender',
    'home.gender.none': 'Not given',
    'home.gender.female': 'Female',
    'home.gender.male': 'Male',
    'home.birth': 'Date of birth',
    'home.work': 'Where I work',
    'home.work.unit': 'Employee of a company or organisation',
    'home.work.platform': 'Platform worker (delivery rider, ride-hailing driver…)',
    'home.unit': 'Find your employer',
    'home.unitPh': 'Employer name',
    'home.unitHint': 'Type at least 2 characters, then tap a result',
    'home.unitChosen': 'Selected: {name}',
    'home.unitById': 'Selected employer (no. {id})',
    'home.unitNone': 'No employer selected yet',
    'home.unitEmpty': 'No employer found. Try other words.',
    'home.searching': 'Searching…',
    'home.platform': 'Platform',
    'home.platformPh': 'e.g. 美团 (Meituan), 饿了么 (Ele.me)',
    'home.save': 'Save',
    'home.saved': 'Saved',
    'home.logout': 'Log out',

    'unit.kind.enterprise': 'Company',
    'unit.kind.social_org': 'Social organisation',
    'unit.kind.association': 'Trade association',
    'unit.kind.platform': 'Platform company',

    'err.invalid_phone': 'Please enter a valid mainland mobile number',
    'err.rate_limited': 'Too many tries. Please wait {seconds} s and try again',
    'err.rate_limited_later': 'Too many tries. Please try again later',
    'err.invalid_code': 'Wrong code',
    'err.code_format': 'Please enter the 6-digit code',
    'err.code_locked': 'Too many wrong tries. Please get a new code',
    'err.sms_unavailable': 'Could not send the SMS. Please try again later',
    'err.network': 'No network. Check your connection and try again',
    'err.unauthorized': 'Your login has expired. Please log in again',
    'err.forbidden': 'You are not allowed to do this',
    'err.not_found': 'Not found',
    'err.bad_request': 'Something in the form is wrong. Please check it',
    'err.invalid_name': 'Please enter a valid name (at most 50 characters)',
    'err.invalid_gender': 'Please choose the gender again',
    'err.invalid_birth_date': 'Please enter a valid date of birth',
    'err.invalid_platform': 'Please enter a valid platform name',
    'err.platform_required': 'Please enter your platform',
    'err.invalid_unit': 'This employer does not exist. Please search again',
    'err.generic': 'Something went wrong. Please try again later',
  },
};

const STORE_KEY = 'qunjia.lang';
let lang = 'zh-CN';
try {
  if (TABLE[localStorage.getItem(STORE_KEY)]) lang = localStorage.getItem(STORE_KEY);
} catch {
  // Storage can be blocked (private mode, WebView settings): stay on the default.
}
document.documentElement.lang = lang;

export function getLang() {
  return lang;
}

export function setLang(next) {
  if (!TABLE[next]) return;
  lang = next;
  document.documentElement.lang = next;
  try {
    localStorage.setItem(STORE_KEY, next);
  } catch {
    // Not persisted; the choice still holds for this visit.
  }
  translateAll(document);
}

export function t(key, params) {
  const text = TABLE[lang][key] ?? TABLE['zh-CN'][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (params && params[name] != null ? String(params[name]) : m));
}

/** The i18n key (and params) for an API error object {status, code, retryAfter}. */
export function errorKey(err) {
  const code = (err && err.code) || 'generic';
  if (code === 'rate_limited') {
    return err.retryAfter ? ['err.rate_limited', { seconds: err.retryAfter }] : ['err.rate_limited_later'];
  }
  return TABLE['zh-CN'][`err.${code}`] ? [`err.${code}`] : ['err.generic'];
}

// Elements remember their key and params in data attributes, so switching the
// language re-translates the live page in place without losing what was typed.
export function setText(el, key, params) {
  el.dataset.i18n = key;
  if (params) el.dataset.i18nArgs = JSON.stringify(params);
  else delete el.dataset.i18nArgs;
  el.textContent = t(key, params);
}

/** Translated attributes, e.g. setAttrs(input, {placeholder: 'home.unitPh'}). */
export function setAttrs(el, map) {
  el.dataset.i18nAttr = Object.entries(map).map(([a, k]) => `${a}=${k}`).join(',');
  for (const [a, k] of Object.entries(map)) el.setAttribute(a, t(k));
}

export function clearText(el) {
  delete el.dataset.i18n;
  delete el.dataset.i18nArgs;
  el.textContent = '';
}

export function translateAll(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n, el.dataset.i18nArgs ? JSON.parse(el.dataset.i18nArgs) : undefined);
  }
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(',')) {
      const [a, k] = pair.split('=');
      el.setAttribute(a, t(k));
    }
  }
}

const shanghaiDate = new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });

/** Today as YYYY-MM-DD in Asia/Shanghai, whatever the phone's own time zone. */
export function todayShanghai() {
  // formatToParts: locale date patterns differ between ICU versions.
  const p = {};
  for (const { type, value } of shanghaiDate.formatToParts(new Date())) p[type] = value;
  return `${p.year}-${p.month}-${p.day}`;
}

/** An RFC 3339 time shown in Asia/Shanghai, in the current language. */
export function formatTime(iso) {
  return new Intl.DateTimeFormat(lang, { timeZone: 'Asia/Shanghai', dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}
