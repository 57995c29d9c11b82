// The user's settings, loaded once from the server and shared by every page, with the schema the server
// serves for them (GET /api/settings/schema: type, default, limits, group, i18n keys of each key; see
// server/settings.py). Fields are built from that schema: the UI declares no types or defaults of its own.
// Language and theme are also mirrored to localStorage so the first paint is already right.
import { api, ApiError } from './api.js';
import { setLocale } from './i18n/index.svelte.js';

export const settings = $state({ loaded: false, values: {}, schema: [], health: null });

export function applyTheme(theme) {
  const dark = theme === 'dark' || (theme === 'system' && matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  localStorage.setItem('lw_theme', theme);
}

// Saves started so far. The first load can be answered after the user has already changed a setting
// (a busy machine, a slow start): its values are older than that save's answer and must not undo it.
let saves = 0;

/** Call before any PATCH of /api/settings that bypasses saveSetting (so a late first load cannot undo it). */
export function noteSave() {
  saves += 1;
}

export async function loadSettings() {
  const savesBefore = saves;
  const [s, h, schema] = await Promise.all([api.get('/api/settings'), api.get('/api/health'), api.get('/api/settings/schema')]);
  settings.health = h;
  settings.schema = schema.settings;
  if (savesBefore === saves) {
    settings.values = s.settings;
    setLocale(s.settings.language);
    applyTheme(s.settings.theme);
  } else {
    settings.values = { ...s.settings, ...settings.values };
  }
  settings.loaded = true;
}

export async function saveSetting(key, value) {
  noteSave();
  const res = await api.patch('/api/settings', { [key]: value });
  settings.values = res.settings;
  applied({ [key]: value });
}

/** Save settings without the error banner; returns null or the ApiError (its details.field names the key). */
export async function saveQuiet(changes) {
  try {
    noteSave();
    const res = await api.patch('/api/settings', changes, { quiet: true });
    settings.values = res.settings;
    applied(changes);
    return null;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
}

function applied(changes) {
  if ('language' in changes) setLocale(settings.values.language);
  if ('theme' in changes) applyTheme(settings.values.theme);
}

/** The schema entry of a setting key, or null. */
export function settingSpec(key) {
  return settings.schema.find((s) => s.key === key) || null;
}

/** The schema entries the settings page shows in `group` (e.g. "general", "tagging.wd14"), in server order. */
export function settingsIn(group) {
  return settings.schema.filter((s) => s.group === group);
}

/** A number field's text as a number, or the text itself so the server's validation explains it. */
export function parseNumber(text, integer = false) {
  const s = String(text ?? '').trim().replace(',', '.');
  if (s === '') return s;
  const n = Number(s);
  if (!Number.isFinite(n)) return s;
  return integer && Number.isInteger(n) ? n : integer ? s : n;
}

/** "a, b ,c" -> ["a", "b", "c"] */
export function splitWords(text) {
  return String(text ?? '').split(/[,，\n]/).map((w) => w.trim()).filter(Boolean);
}

export function joinWords(list) {
  return Array.isArray(list) ? list.join(', ') : String(list ?? '');
}

const splitLines = (text) => String(text ?? '').split('\n').map((s) => s.trim()).filter(Boolean);

/** A setting's saved value as the text/checkbox value a form shows (by the schema's type). */
export function toDraft(key, value) {
  const type = settingSpec(key)?.type;
  if (type === 'bool') return !!value;
  if (type === 'words') return joinWords(value);
  if (type === 'paths') return Array.isArray(value) ? value.join('\n') : String(value ?? '');
  return value == null ? '' : String(value);
}

/** A form value as the JSON value the server expects (invalid numbers stay text: the server explains). */
export function fromDraft(key, value) {
  const type = settingSpec(key)?.type;
  if (type === 'bool') return !!value;
  if (type === 'words') return splitWords(value);
  if (type === 'paths') return splitLines(value);
  if (type === 'int') return parseNumber(value, true);
  if (type === 'number') return parseNumber(value);
  return typeof value === 'string' && type !== 'longtext' ? value.trim() : value;
}

applyTheme(localStorage.getItem('lw_theme') || 'system');
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme(settings.values.theme || 'system'));
