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

export async function loadSettings() {
  const [s, h] = await Promise.all([api.get('/api/settings'), api.get('/api/health')]);
  settings.values = s.settings;
  settings.health = h;
  settings.loaded = true;
  setLocale(s.settings.language);
  applyTheme(s.settings.theme);
}

export async function saveSetting(key, value) {
  const res = await api.patch('/api/settings', { [key]: value });
  settings.values = res.settings;
  if (key === 'language') setLocale(value);
  if (key === 'theme') applyTheme(value);
}

applyTheme(localStorage.getItem('lw_theme') || 'system');
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme(settings.values.theme || 'system'));
