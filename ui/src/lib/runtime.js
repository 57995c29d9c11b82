// Helpers shared by the model library, trainer environment and first-run sections.
import { api } from './api.js';
import { t, hasKey, i18n } from './i18n/index.svelte.js';
import { browseServer } from './filePicker.svelte.js';
import { errorText } from './errors.svelte.js';

export const typeLabel = (id) => (hasKey(`training.types.${id}.label`) ? t(`training.types.${id}.label`) : id);
export const roleLabel = (key) => (hasKey(`training.models.${key}.label`) ? t(`training.models.${key}.label`) : key);
export const variantLabel = (key) => (hasKey(`training.variants.${key}`) ? t(`training.variants.${key}`) : key);


/** The localized short title of a problem code, else the server's message. */
export function problemTitle(prefix, p) {
  const key = `${prefix}.problem.${p.code}`;
  return hasKey(key) ? t(key) : p.message;
}

// English shows the server's own advice (it names versions and paths); other languages a translation,
// by the advice's own code (one problem has several kinds of advice), filled from the problem's details.
export function problemAction(p) {
  const key = `rt.action.${p.action_code || p.code}`;
  if (i18n.locale === 'en' || !hasKey(key)) return p.action;
  const text = t(key, p.details || {});
  return /\{\w+\}/.test(text) ? p.action : text;
}

/** The line under a trainer problem's title: rt.detail.<code> filled from its details, else the server's. */
export const problemDetail = (p) => errorText(p, 'rt.detail');

/** The line under a model file's problem: models.detail.<detail_code> filled from its details, else the server's. */
export const modelProblemDetail = (p) => errorText({ ...p, code: p.detail_code || p.code }, 'models.detail');

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
