// One big file to the server in chunks that survive a dropped connection (server/uploads.py): each chunk
// is a PUT with Content-Range at the offset the server holds. After a network error the client asks
// the server for its offset and goes on from there (a few tries, waiting longer each time); the upload's
// id is kept in localStorage under the file's name, size and date, so choosing the same file again
// (after a reload, or a later day) resumes it instead of starting over.
import { api, tokenHeader, ApiError } from './api.js';

const CHUNK = 16 * 1024 * 1024;
const TRIES = 8;

const keyOf = (file, target) => `lw_upload:${JSON.stringify(target)}:${file.name}:${file.size}:${file.lastModified}`;
const sleep = (ms, signal) => new Promise((res) => {
  const t = setTimeout(res, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); res(); }, { once: true });
});

function putChunk(id, blob, start, size, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (fn, v) => { signal?.removeEventListener('abort', onAbort); fn(v); };
    xhr.open('PUT', `/api/uploads/${id}`);
    for (const [k, v] of Object.entries(tokenHeader())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('Content-Range', `bytes ${start}-${start + blob.size - 1}/${size}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(start + e.loaded);
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) return done(resolve, data);
      const e = data?.error || {};
      done(reject, new ApiError(xhr.status, e.code || `http_${xhr.status}`, e.message || xhr.statusText, e.details));
    };
    xhr.onerror = () => done(reject, new ApiError(0, 'network_error', 'Network error'));
    xhr.onabort = () => done(reject, new ApiError(0, 'aborted', 'Cancelled'));
    xhr.send(blob);
  });
}

/** Upload `file`; target: {purpose: 'model'} or {purpose: 'dataset', dataset_id, slot}. `onProgress(sent,
 *  total)`; resolves to the server's result ({path} or {job, dataset_id}). Aborting `signal` stops it
 *  (the partial upload stays on the server to be resumed; `cancelUpload` drops it). */
export async function uploadResumable(file, target, { onProgress = () => {}, signal } = {}) {
  const key = keyOf(file, target);
  let id = localStorage.getItem(key);
  let offset = 0;
  if (id) {
    try {
      offset = (await api.get(`/api/uploads/${id}`, { quiet: true })).offset;
    } catch {
      id = null; // finished, cancelled or expired: start again
    }
  }
  if (!id) {
    id = (await api.post('/api/uploads', { ...target, name: file.name, size: file.size }, { quiet: true })).id;
    localStorage.setItem(key, id);
  }
  onProgress(offset, file.size);
  let failures = 0;
  for (;;) {
    if (signal?.aborted) throw new ApiError(0, 'aborted', 'Cancelled');
    const end = Math.min(offset + CHUNK, file.size);
    try {
      const res = await putChunk(id, file.slice(offset, end), offset, file.size, (n) => onProgress(n, file.size), signal);
      offset = res.offset;
      failures = 0;
      onProgress(offset, file.size);
      if (res.done) {
        localStorage.removeItem(key);
        return res.result;
      }
    } catch (e) {
      if (e.code === 'aborted') throw e;
      if (e.code === 'upload_offset_mismatch') {
        offset = e.details.offset;
        continue;
      }
      const retry = ['network_error', 'upload_busy', 'upload_incomplete'].includes(e.code) || e.status >= 500;
      if (!retry || ++failures > TRIES) throw e;
      await sleep(Math.min(500 * 2 ** failures, 15000), signal);
      try {
        offset = (await api.get(`/api/uploads/${id}`, { quiet: true })).offset;
      } catch (e2) {
        if (e2.code === 'upload_not_found') {
          localStorage.removeItem(key);
          throw e2;
        }
      }
    }
  }
}

/** Drop what the server holds of this file's upload (the user cancelled for good). */
export async function cancelUpload(file, target) {
  const key = keyOf(file, target);
  const id = localStorage.getItem(key);
  localStorage.removeItem(key);
  if (id) await api.del(`/api/uploads/${id}`, undefined, { quiet: true }).catch(() => {});
}
