// The user's settings, loaded once from the server and shared by every page.
// Language and theme are also mirrored to localStorage so the first paint is already right.
import { api } from './api.js';
import { setLocale } from './i18n/index.svelte.js';

export const settings = $state({ loaded: false, values: {}, health: null });

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
  const [s, h] = await Promise.all([api.get('/api/settings'), api.get('/api/health')]);
  settings.health = h;
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
  if (key === 'language') setLocale(value);
  if (key === 'theme') applyTheme(value);
}

applyTheme(localStorage.getItem('lw_theme') || 'system');
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme(settings.values.theme || 'system'));
