// Errors shown in the banner at the top of every page. Repeated identical errors are folded
// into one entry with a count so a failing poll cannot flood the screen.
import { hasKey, t } from './i18n/index.svelte.js';

let nextId = 1;

export const errors = $state({ list: [] });

export function pushError(err) {
  const code = err.code || 'error';
  const message = err.message || String(err);
  const same = errors.list.find((e) => e.code === code && e.message === message);
  if (same) {
    same.count += 1;
    return;
  }
  errors.list.push({ id: nextId++, code, message, field: err.details?.field || '', count: 1 });
  if (errors.list.length > 5) errors.list.shift();
}

export function dismissError(id) {
  errors.list = errors.list.filter((e) => e.id !== id);
}

/** The banner's text: the UI's own sentence for a code it knows (error.code.*), else the server's message. */
export function errorText(e) {
  const key = `error.code.${e.code}`;
  if (!hasKey(key)) return e.message;
  return e.field ? `${t(key)} (${e.field})` : t(key);
}
