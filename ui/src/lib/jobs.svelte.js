// Follow a background job live: `followJob(id, onUpdate)` subscribes to `job:<id>` and calls
// onUpdate with the job record (and per-item events) until it ends. Returns the unsubscribe function.
import { api } from './api.js';
import { subscribe } from './ws.svelte.js';
import { t, hasKey, i18n } from './i18n/index.svelte.js';
import { errorText } from './errors.svelte.js';
import { formatDuration } from './format.js';

// A job's statuses once it has ended (a training task's are training.js TASK_FINAL: 'stopped', not 'cancelled').
export const FINAL = ['done', 'failed', 'cancelled', 'interrupted'];

export function followJob(id, onUpdate, onEvent) {
  let stop = null;
  let streamed = false; // a `job` event came over the socket: from then on it alone says what the job is
  const handler = (ev) => {
    if (ev.type === 'job') {
      streamed = true;
      onUpdate(ev.data);
      if (FINAL.includes(ev.data.status) && stop) {
        stop();
        stop = null;
      }
    } else if (onEvent) {
      onEvent(ev);
    }
  };
  stop = subscribe(`job:${id}`, handler);
  // Show the job's current state at once. The server replays the job's earlier events to this new
  // subscription, so a job that already ended still delivers its per-item events and its final
  // state over the socket: only that final event ends the subscription (a grace period covers a
  // replay buffer that no longer holds the job). The fetch is for that case only: its answer may have
  // been read before an event that reached us first, and a job waiting on a download sends no other
  // to put the newer state back (a setup job showed no step while it downloaded).
  api.get(`/api/jobs/${id}`, { quiet: true }).then((r) => {
    if (!stop || streamed) return;
    onUpdate(r.job);
    if (FINAL.includes(r.job.status)) setTimeout(() => stop && (stop(), (stop = null)), 5000);
  }).catch(() => {});
  return () => stop && (stop(), (stop = null));
}

export function cancelJob(id) {
  return api.post(`/api/jobs/${id}/cancel`);
}

/**
 * What a job says it is doing, in the UI language: job.msg.<message_code> filled from message_params
 * (eta_s written as a duration); the server's English `message` when the code is unknown or missing.
 */
export function jobMessage(job) {
  const code = job?.message_code;
  if (!code || !hasKey(`job.msg.${code}`)) return job?.message || '';
  const params = { ...(job.message_params || {}) };
  if (params.eta_s != null) params.eta_s = formatDuration(Number(params.eta_s));
  return t(`job.msg.${code}`, params);
}

/**
 * Why a job failed, in the UI language: { text, detail }. `text` is job.err.<error_code> (server/jobs/failures.py)
 * or, for an ApiError raised inside the job, err.<error_code>, filled from error_params; `detail` is the raw
 * technical text (error_params.error, an OS error or a tool's last line), shown apart and untranslated. A job
 * without a known code (an unexpected exception, a row from before codes) says "Failed:" with its text as the detail.
 */
export function jobError(job) {
  if (!job?.error) return null;
  const code = job.error_code;
  const params = job.error_params || {};
  const raw = String(job.error).replace(/^[A-Za-z_]*(Error|Exception|Failure|Failed):\s*/, '');
  const detail = params.error != null ? String(params.error) : '';
  if (code && code !== 'unexpected' && hasKey(`job.err.${code}`)) return { text: t(`job.err.${code}`, params), detail };
  if (code && code !== 'unexpected' && hasKey(`err.${code}`)) {
    const text = errorText({ code, message: raw, details: params });
    if (text !== raw || i18n.locale === 'en') return { text, detail: '' };
  }
  return { text: t('job.err.unexpected'), detail: detail || raw };
}
