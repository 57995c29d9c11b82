// Helpers of the pre-flight panel, the dataset page's check and the task detail (issue 15).
import { t } from './i18n/index.svelte.js';
import { navigate } from './router.svelte.js';

/** Seconds -> "1 h 40 m", "12 m", "45 s" in the UI language. */
export function spanText(seconds) {
  if (seconds == null || !isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  if (h) return t('preflight.dur.hm', { h, m });
  if (s >= 60) return t('preflight.dur.m', { m: Math.round(s / 60) });
  return t('preflight.dur.s', { s });
}

/** A finding's headline: `preflight.f.<code>` with {n} and its params, else the server's message. */
export function findingText(f) {
  const p = { n: f.count, ...f.params };
  if (Array.isArray(p.prompts)) p.prompts = p.prompts.join(', ');
  if (f.code === 'sample_image_missing') p.files = f.files.slice(0, 5).join(', ');
  const key = `preflight.f.${f.code}`;
  const text = t(key, p);
  return text === key ? f.message : text;
}

/** Open the dataset grid showing only these files (the names filter of the item listing). */
export function showInGrid(datasetId, files) {
  // Encoded twice: the router decodes the whole hash once, then URLSearchParams decodes the query.
  navigate(`/datasets/${datasetId}?files=${encodeURIComponent(encodeURIComponent(JSON.stringify(files)))}`);
}

/** The file names a dataset page's ?files= carries, or null. */
export function filesFromQuery(query) {
  if (!query?.files) return null;
  try {
    const names = JSON.parse(query.files);
    return Array.isArray(names) && names.every((n) => typeof n === 'string') ? names : null;
  } catch {
    return null;
  }
}
