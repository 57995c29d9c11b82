// Follow a background job live: `followJob(id, onUpdate)` subscribes to `job:<id>` and calls
// onUpdate with the job record (and per-item events) until it ends. Returns the unsubscribe function.
import { api } from './api.js';
import { subscribe } from './ws.svelte.js';

export const FINAL = ['done', 'failed', 'cancelled', 'interrupted'];

export function followJob(id, onUpdate, onEvent) {
  let stop = null;
  const handler = (ev) => {
    if (ev.type === 'job') {
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
  // The job may have moved on before the subscription landed: read its state once.
  api.get(`/api/jobs/${id}`, { quiet: true }).then((r) => handler({ type: 'job', data: r.job })).catch(() => {});
  return () => stop && stop();
}

export function cancelJob(id) {
  return api.post(`/api/jobs/${id}/cancel`);
}
