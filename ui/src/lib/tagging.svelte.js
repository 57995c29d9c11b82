// Shared by the tagging settings section and the auto-tag dialog: what the server offers
// (backends, presets, WD14 models), how a backend's option names map to setting keys, and the small
// helper that turns the server's error codes into UI text.
import { backends } from './api/tagging.js';
import { t, hasKey } from './i18n/index.svelte.js';

export const BACKEND_ORDER = ['openai_api', 'wd14', 'musubi_qwen_vl'];
export const CUSTOM_PRESET = 'custom';

// GET /api/tagging/backends, loaded once and refreshed after a model download.
export const tagging = $state({ loaded: false, loading: false, backends: [], presets: [], modes: [], wd14: { known_repos: [], downloaded: [], providers: [] } });

export async function loadTagging(force = false) {
  if ((tagging.loaded || tagging.loading) && !force) return tagging;
  tagging.loading = true;
  try {
    const res = await backends();
    tagging.backends = [...res.backends].sort((a, b) => BACKEND_ORDER.indexOf(a.name) - BACKEND_ORDER.indexOf(b.name));
    tagging.presets = res.presets;
    tagging.modes = res.modes;
    tagging.wd14 = res.wd14;
    tagging.loaded = true;
  } finally {
    tagging.loading = false;
  }
  return tagging;
}

export function backendInfo(name) {
  return tagging.backends.find((b) => b.name === name) || null;
}

export function presetInfo(name) {
  return tagging.presets.find((p) => p.name === name) || null;
}

/** A short, translated headline for a server error code, or '' when there is none. */
export function errorTitle(code) {
  const key = `tag.err.${code}`;
  return code && hasKey(key) ? t(key) : '';
}

/** Option name (as /test and /autotag take it) for a setting key of a backend. */
export function optionName(backend, key) {
  return backendInfo(backend)?.options.find((o) => o.setting === key)?.name || null;
}

/** Setting key behind an option name of a backend (maps a 422's details.field back to a form field). */
export function settingOf(backend, name) {
  return backendInfo(backend)?.options.find((o) => o.name === name)?.setting || null;
}

/** The server's default prompt (the option default) for a backend's prompt option. */
export function defaultOf(backend, name) {
  return backendInfo(backend)?.options.find((o) => o.name === name)?.default ?? null;
}

// A prompt that asks for a tag list, for API users who switch the output to tags. Model input, so English.
export const TAGS_PROMPT =
  'List the visible content of this image as comma-separated booru-style tags, most important first: ' +
  'subject, hair, eyes, clothing, pose, expression, background, lighting, style. Lowercase, no sentences, no numbering.\n' +
  'The first tag is the subject\'s name: {trigger}';
