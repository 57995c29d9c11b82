// i18n: every string the UI shows goes through t(key, params).
// Tables live beside this file, one per area (core.js, datasets.js, training.js...), each exporting
// `default { en: {...}, 'zh-CN': {...} }`; they are merged here so an area adds strings without
// touching anyone else's table. A missing key shows the key itself, and the browser test fails on it.
const modules = import.meta.glob(['./*.js', '!./*.svelte.js'], { eager: true });

export const LOCALES = ['zh-CN', 'en'];
const tables = { en: {}, 'zh-CN': {} };
for (const mod of Object.values(modules)) {
  for (const locale of LOCALES) Object.assign(tables[locale], mod.default[locale] || {});
}

const saved = localStorage.getItem('lw_locale');
export const i18n = $state({ locale: LOCALES.includes(saved) ? saved : 'zh-CN' });

export function setLocale(locale) {
  if (!LOCALES.includes(locale)) return;
  i18n.locale = locale;
  localStorage.setItem('lw_locale', locale);
  document.documentElement.lang = locale;
}

export function t(key, params) {
  let s = tables[i18n.locale][key] ?? tables.en[key];
  if (s === undefined) {
    if (import.meta.env.DEV) console.warn('missing i18n key', key);
    return key;
  }
  if (params) s = s.replace(/\{(\w+)\}/g, (_, k) => (params[k] ?? `{${k}}`));
  return s;
}

export function hasKey(key) {
  return key in tables.en && key in tables['zh-CN'];
}

export function allKeys() {
  return { en: Object.keys(tables.en), 'zh-CN': Object.keys(tables['zh-CN']) };
}

export function formatDate(ts) {
  if (!ts) return '';
  return new Date(ts * 1000).toLocaleString(i18n.locale, { dateStyle: 'medium', timeStyle: 'short' });
}
