// Errors shown in the banner at the top of every page. Repeated identical errors are folded
// into one entry with a count so a failing poll cannot flood the screen.
import { hasKey, t } from './i18n/index.svelte.js';

let nextId = 1;

export const errors = $state({ list: [] });

export function pushError(err) {
  const code = err.code || 'error';
  // a code with its own text (err.<code>, filled from the error's details) is shown in the UI's language
  const message = hasKey(`err.${code}`) ? t(`err.${code}`, err.details || {}) : err.message || String(err);
  const same = errors.list.find((e) => e.code === code && e.message === message);
  if (same) {
    same.count += 1;
    return;
  }
  errors.list.push({ id: nextId++, code, message, count: 1 });
  if (errors.list.length > 5) errors.list.shift();
}

export function dismissError(id) {
  errors.list = errors.list.filter((e) => e.id !== id);
}
