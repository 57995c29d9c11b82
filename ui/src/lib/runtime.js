// Helpers shared by the model library, trainer environment and first-run sections.
import { api } from './api.js';
import { t, hasKey, i18n } from './i18n/index.svelte.js';
import { browseServer } from './filePicker.svelte.js';

export const typeLabel = (id) => (hasKey(`training.types.${id}.label`) ? t(`training.types.${id}.label`) : id);
export const roleLabel = (key) => (hasKey(`training.models.${key}.label`) ? t(`training.models.${key}.label`) : key);
export const variantLabel = (key) => (hasKey(`training.variants.${key}`) ? t(`training.variants.${key}`) : key);


/** The localized short title of a problem code, else the server's message. */
export function problemTitle(prefix, p) {
  const key = `${prefix}.problem.${p.code}`;
  return hasKey(key) ? t(key) : p.message;
}

// English shows the server's own advice (it names versions and paths); other languages a translation.
export function problemAction(p) {
  const key = `rt.action.${p.code}`;
  return i18n.locale !== 'en' && hasKey(key) ? t(key) : p.action;
}

/** Path from the native file dialog of the app window, or where there is none (a browser, server mode)
 * from the server's folder browser; null when cancelled. */
export async function pickPath(kind, initial = '') {
  try {
    const res = await api.post('/api/models/pick-file', { kind, initial }, { quiet: true });
    return res.path;
  } catch (e) {
    if (e.code === 'no_native_dialog') return browseServer(kind === 'python' ? 'any' : kind, initial);
    throw e;
  }
}

export const getLibrary = () => api.get('/api/models/library');
export const saveLibrary = (changes) => api.patch('/api/models/library', changes, { quiet: true });
export const getRuntime = () => api.get('/api/runtime');
export const detectRuntime = () => api.post('/api/runtime/detect');
export const startSetup = (body) => api.post('/api/runtime/setup', body, { quiet: true });
