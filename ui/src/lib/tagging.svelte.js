// Shared by the tagging settings section and the auto-tag dialog: what the server offers
// (backends, presets, WD14 models), quiet setting saves with per-field errors, and the small
// formatting helpers that turn the server's error codes into UI text.
import { api, ApiError } from './api.js';
import { noteSave, settings } from './settings.svelte.js';
import { t, hasKey } from './i18n/index.svelte.js';

export const BACKEND_ORDER = ['openai_api', 'wd14', 'musubi_qwen_vl'];
export const CUSTOM_PRESET = 'custom';

// GET /api/tagging/backends, loaded once and refreshed after a model download.
export const tagging = $state({ loaded: false, loading: false, backends: [], presets: [], modes: [], wd14: { known_repos: [], downloaded: [], providers: [] } });

export async function loadTagging(force = false) {
  if ((tagging.loaded || tagging.loading) && !force) return tagging;
  tagging.loading = true;
  try {
    const res = await api.get('/api/tagging/backends');
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

/** Save settings without the error banner; returns null or the ApiError (its details.field names the key). */
export async function saveQuiet(changes) {
  try {
    noteSave();
    const res = await api.patch('/api/settings', changes, { quiet: true });
    settings.values = res.settings;
    return null;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
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

export function isMasked(value) {
  return typeof value === 'string' && value.startsWith('•');
}



/** A short, translated headline for a server error code, or '' when there is none. */
export function errorTitle(code) {
  const key = `tag.err.${code}`;
  return code && hasKey(key) ? t(key) : '';
}

// Every setting the tagging UI edits, with how its text field is read back.
export const KEY_TYPES = {
  tagging_backend: 'text', tagging_mode: 'text', tagging_blacklist: 'words', tagging_video_frames: 'int',
  tagging_api_preset: 'text', tagging_api_base_url: 'text', tagging_api_model: 'text', tagging_api_prompt: 'text',
  tagging_api_output: 'text', tagging_api_max_tokens: 'int', tagging_api_temperature: 'num', tagging_api_parallel: 'int',
  tagging_api_timeout: 'num', tagging_api_max_retries: 'int', tagging_api_image_max_side: 'int',
  tagging_wd14_repo: 'text', tagging_wd14_model_dir: 'text', tagging_wd14_general_threshold: 'num',
  tagging_wd14_character_threshold: 'num', tagging_wd14_underscores_to_spaces: 'bool', tagging_wd14_exclude: 'words',
  tagging_wd14_batch_size: 'int', tagging_hf_endpoint: 'text',
  tagging_qwen_model_path: 'text', tagging_qwen_prompt: 'text', tagging_qwen_max_new_tokens: 'int',
  tagging_qwen_max_size: 'int', tagging_qwen_fp8_vl: 'bool',
};

/** A setting's saved value as the text/checkbox value a form shows. */
export function toDraft(key, value) {
  const type = KEY_TYPES[key];
  if (type === 'bool') return !!value;
  if (type === 'words') return joinWords(value);
  return value == null ? '' : String(value);
}

/** A form value as the JSON value the server expects (invalid numbers stay text: the server explains). */
export function fromDraft(key, value) {
  const type = KEY_TYPES[key];
  if (type === 'bool') return !!value;
  if (type === 'words') return splitWords(value);
  if (type === 'int') return parseNumber(value, true);
  if (type === 'num') return parseNumber(value);
  return typeof value === 'string' && key !== 'tagging_api_prompt' && key !== 'tagging_qwen_prompt' ? value.trim() : value;
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
