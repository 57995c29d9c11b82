// Errors shown in the banner at the top of every page. Repeated identical errors are folded
// into one entry with a count so a failing poll cannot flood the screen.
import { t, hasKey, i18n } from './i18n/index.svelte.js';

let nextId = 1;

export const errors = $state({ list: [] });

/**
 * A server error in the user's language: `err.<code>` from the i18n tables, filled from its `details`.
 * English shows the server's own sentence (it names the file, the path, the exception); any language
 * falls back to it when the code is unknown or a parameter the translation needs is missing.
 * Other coded server sentences with details use their own namespace (`rt.detail` for the trainer
 * environment's problems).
 */
export function errorText(err, namespace = 'err') {
  const code = err?.code;
  const message = err?.message || String(err ?? '');
  const key = `${namespace}.${code}`;
  if (!code || !hasKey(key) || (i18n.locale === 'en' && message)) return message;
  const text = t(key, params(err.details || {}));
  return /\{\w+\}/.test(text) ? message || text : text;
}

/** `details` as translation parameters: a list of files reads as "a, b, c (+12)"; a trainer environment problem
 * (details.problem, a code of server/runtime/detect.py) gives {reason}, its rt.detail line (else its title). */
function params(details) {
  if (details.problem && !('reason' in details)) {
    const code = details.problem;
    const line = errorText({ code, message: '', details: { ...details, problem: undefined } }, 'rt.detail');
    const title = hasKey(`rt.problem.${code}`) ? t(`rt.problem.${code}`) : code;
    const reason = line && !/\{\w+\}/.test(line) ? line : title;
    return params({ ...details, reason });
  }
  const files = details.files;
  if (!Array.isArray(files)) return details;
  const shown = files.slice(0, 5);
  const more = (details.count || files.length) - shown.length;
  return { ...details, files: shown.join(', ') + (more > 0 ? ` (+${more})` : '') };
}

/** Where the user fixes what an error code is about: the banner shows a link there. */
export const FIX_LINKS = {
  musubi_missing: { href: '#/settings?section=trainer', key: 'error.fix.trainer' },
  trainer_not_ready: { href: '#/settings?section=trainer', key: 'error.fix.trainer' },
  trainer_env_problem: { href: '#/settings?section=trainer', key: 'error.fix.trainer' },
};

export function pushError(err) {
  const code = err.code || 'error';
  const message = err.message || String(err);
  const same = errors.list.find((e) => e.code === code && e.message === message);
  if (same) {
    same.count += 1;
    return;
  }
  errors.list.push({ id: nextId++, code, message, details: err.details || {}, count: 1 });
  if (errors.list.length > 5) errors.list.shift();
}

export function dismissError(id) {
  errors.list = errors.list.filter((e) => e.id !== id);
}
