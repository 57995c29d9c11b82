// Live machine readings from the server's system monitor (topic `system`), shared by the top bar
// and the task detail page. Listening is reference-counted so the monitor idles when no page shows it.
import { api } from './api.js';
import { subscribe } from './ws.svelte.js';

export const system = $state({ latest: null, history: [] });

// What the top bar shows besides the GPU: pages set these (e.g. the create-task page's estimate).
export const topbar = $state({ gpuIndex: 0, estimateGb: null });

let users = 0;
let unsubscribe = null;

export function watchSystem() {
  users += 1;
  if (users === 1) {
    api.get('/api/system?history=1', { quiet: true }).then((snap) => {
      system.history = snap.history || [];
      system.latest = snap;
    }).catch(() => {});
    unsubscribe = subscribe('system', (ev) => {
      system.latest = ev.data;
      system.history = [...system.history.slice(-179), ev.data];
    });
  }
  return () => {
    users -= 1;
    if (users === 0 && unsubscribe) {
      unsubscribe();
      unsubscribe = null;
    }
  };
}

/** GB still free on a GPU reading: memory other programs (or other tasks) already use is not available. */
export function freeGb(gpu) {
  if (!gpu || !gpu.memory_total_mb) return Infinity;
  return Math.max(0, gpu.memory_total_mb - (gpu.memory_used_mb || 0)) / 1024;
}

/** Whether a VRAM estimate (GB) does not fit in what is free on `gpu` now. */
export function overVram(estimateGb, gpu) {
  return estimateGb != null && estimateGb > freeGb(gpu);
}
