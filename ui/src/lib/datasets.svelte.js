// Dataset page state: a paged, sparse view of a dataset's items (10,000 items without ever holding
// them all in the DOM), caption drafts that autosave and survive virtualisation, the selection,
// undo/redo state, and chunked uploads with progress.
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import { api, ApiError, tokenHeader } from './api.js';
import { uploadResumable, cancelUpload } from './resumableUpload.js';
import { errorText, pushError } from './errors.svelte.js';
import { t, hasKey } from './i18n/index.svelte.js';

export const PAGE_SIZE = 200;
export const SAVE_DELAY = 600;
export const TYPES = ['image', 'video', 'image_control'];

export const dsUrl = (id, rest = '') => `/api/datasets/${encodeURIComponent(id)}${rest}`;

/** Query string from a plain object, leaving out empty values. */
export function qs(obj) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    p.set(k, v === true ? '1' : String(v));
  }
  const s = p.toString();
  return s ? '?' + s : '';
}

// Undo steps carry a machine-readable `op` and small `params` (the English `label` is for logs):
// the text comes from i18n, `ds.step.<op>.detail` when the params say more, else `ds.step.<op>`.
function joinList(v) {
  return Array.isArray(v) ? v.join(', ') : typeof v === 'string' ? v : '';
}
function stepVars(op, p) {
  switch (op) {
    case 'add_tags':
    case 'remove_tags':
      return joinList(p.tags) ? { tags: joinList(p.tags) } : null;
    case 'replace_tag':
      return p.old ? { old: p.old, new: p.new ?? '' } : null;
    case 'replace_text':
      return p.find ? { find: p.find } : null;
    case 'move_to_front':
      return p.tag ? { tag: p.tag } : null;
    case 'set':
    case 'prepend':
    case 'append':
      return p.text ? { text: p.text } : null;
    case 'delete_items':
      return p.n ? { n: p.n } : null;
    case 'edit_caption':
    case 'edit_tags':
      return p.name ? { name: p.name } : null;
    case 'autotag':
      if (!p.backend) return null;
      return { backend: hasKey(`tag.backend.${p.backend}.short`) ? t(`tag.backend.${p.backend}.short`) : p.backend };
    default:
      return null;
  }
}

/** A history Step ({op, params, label}) in the user's language. */
export function stepLabel(step) {
  if (!step) return '';
  const op = step.op;
  const vars = op ? stepVars(op, step.params || {}) : null;
  if (vars && op === 'replace_tag' && !vars.new && hasKey('ds.step.replace_tag.removed')) return t('ds.step.replace_tag.removed', vars);
  if (vars && hasKey(`ds.step.${op}.detail`)) return t(`ds.step.${op}.detail`, vars);
  if (op && hasKey(`ds.step.${op}`)) return t(`ds.step.${op}`);
  return step.label || '';
}

/**
 * Click on a selection checkbox. The box is drawn from the selection, so the click must not be
 * cancelled: a cancelled click makes the browser put the old state back after Svelte drew the new one,
 * and the box stayed empty while the card showed as selected. Once `run` is done the box is set from `isOn`.
 */
export function toggleCheck(e, run, isOn) {
  const box = e.currentTarget;
  Promise.resolve(run()).finally(() => { box.checked = isOn(); });
}

/** The items of one dataset under one filter/sort, loaded page by page as rows come into view. */
export class ItemView {
  items = $state.raw([]); // sparse: index -> Item
  total = $state(0);
  loadedOnce = $state(false);
  epoch = $state(0); // bumps when the view must be refetched (filter change, outside edits)
  filter = $state({ q: '', in: 'all', tag: '', no_caption: false, missing_control: false, broken: false, names: [], sort: 'name', order: 'asc' });
  #pages = new Map(); // page -> 'loading' | 'loaded'
  #gen = 0;
  #indexById = new Map();
  #idsCache = null;

  constructor(datasetId) {
    this.datasetId = datasetId;
  }

  params() {
    const f = this.filter;
    return { q: f.q.trim(), in: f.q.trim() ? f.in : '', tag: f.tag, no_caption: f.no_caption,
      missing_control: f.missing_control, broken: f.broken, names: (f.names || []).join('\n'), sort: f.sort, order: f.order };
  }

  /** Filter for batch targets ({filter}) and /tags. */
  filterBody() {
    const p = this.params();
    delete p.sort;
    delete p.order;
    return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== '' && v !== false));
  }

  setFilter(patch) {
    Object.assign(this.filter, patch);
    this.reset();
  }

  /** Drop everything and start again from the first page (filter or sort changed). */
  reset() {
    this.#gen++;
    this.#pages.clear();
    this.#indexById.clear();
    this.#idsCache = null;
    this.items = [];
    this.loadedOnce = false;
    this.epoch++;
    return this.ensure(0, PAGE_SIZE - 1);
  }

  /** Refetch the pages in view, keeping what is shown until the new data arrives (outside changes). */
  refresh() {
    this.#gen++;
    this.#pages.clear();
    this.#idsCache = null;
    this.epoch++;
    // page 0 brings the new total (rows appear or go); mounted rows refetch their own pages
    this.#load(0).catch(() => {});
  }

  /** Make sure items [from, to] are loaded (called by rows as they mount). */
  ensure(from, to) {
    const first = Math.max(0, Math.floor(from / PAGE_SIZE));
    const last = Math.max(first, Math.floor(Math.max(from, to) / PAGE_SIZE));
    const jobs = [];
    for (let p = first; p <= last; p++) {
      if (this.loadedOnce && p * PAGE_SIZE >= this.total) break;
      if (!this.#pages.has(p)) jobs.push(this.#load(p));
    }
    return Promise.all(jobs);
  }

  async #load(p) {
    const gen = this.#gen;
    this.#pages.set(p, 'loading');
    try {
      const res = await api.get(dsUrl(this.datasetId, '/items') + qs({ ...this.params(), offset: p * PAGE_SIZE, limit: PAGE_SIZE }));
      if (gen !== this.#gen) return;
      this.#pages.set(p, 'loaded');
      const next = this.items.slice();
      next.length = res.total;
      res.items.forEach((it, k) => {
        next[p * PAGE_SIZE + k] = it;
        this.#indexById.set(it.id, p * PAGE_SIZE + k);
      });
      this.total = res.total;
      this.items = next;
      this.loadedOnce = true;
      this.onDataset?.(res.dataset);
    } catch (e) {
      if (gen === this.#gen) this.#pages.delete(p);
      throw e;
    }
  }

  indexOf(id) {
    const i = this.#indexById.get(id);
    return i !== undefined && this.items[i]?.id === id ? i : -1;
  }

  /** Replace one item in place (websocket item_updated, or a save's answer). */
  update(item) {
    const i = this.indexOf(item.id);
    if (i < 0) return false;
    const next = this.items.slice();
    next[i] = item;
    this.items = next;
    return true;
  }

  /** Every id matching the current filter, in the current order (range selection, select all). */
  async allIds() {
    if (this.#idsCache) return this.#idsCache;
    const gen = this.#gen;
    const res = await api.get(dsUrl(this.datasetId, '/items/ids') + qs(this.params()));
    if (gen === this.#gen) this.#idsCache = res.ids;
    return res.ids;
  }
}

/** Caption drafts per item id; saved after a pause in typing, with the text they started from
 *  sent as `expected` so an edit made elsewhere in the meantime is reported, never overwritten. */
export class CaptionDrafts {
  drafts = new SvelteMap(); // id -> {text, base, status: 'unsaved'|'saving'|'saved'|'error'|'conflict', current?}
  #timers = new Map();

  constructor(datasetId, view) {
    this.datasetId = datasetId;
    this.view = view;
  }

  get(id) {
    return this.drafts.get(id);
  }

  pending() {
    return [...this.drafts.values()].filter((d) => d.status === 'unsaved' || d.status === 'saving').length;
  }

  edit(item, text) {
    const d = this.drafts.get(item.id);
    const base = d && d.status !== 'saved' ? d.base : (item.caption ?? '');
    if (d?.status === 'conflict') {
      this.drafts.set(item.id, { ...d, text });
      return;
    }
    this.drafts.set(item.id, { text, base, status: 'unsaved', name: item.name });
    clearTimeout(this.#timers.get(item.id));
    this.#timers.set(item.id, setTimeout(() => this.save(item.id), SAVE_DELAY));
  }

  flush(id) {
    const d = this.drafts.get(id);
    if (d && d.status === 'unsaved') return this.save(id);
  }

  flushAll() {
    return Promise.all([...this.drafts.keys()].map((id) => this.flush(id)));
  }

  async save(id, { force = false } = {}) {
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
    const d = this.drafts.get(id);
    if (!d) return;
    const text = d.text;
    this.drafts.set(id, { ...d, status: 'saving' });
    const body = { caption: text };
    if (!force) body.expected = d.base;
    try {
      const res = await api.put(dsUrl(this.datasetId, `/items/${id}/caption`), body, { quiet: true });
      this.view.update(res.item);
      const now = this.drafts.get(id);
      if (now && now.text !== text) {
        // typed more while saving: keep going from the saved text
        this.drafts.set(id, { ...now, base: res.item.caption ?? '', status: 'unsaved' });
        this.#timers.set(id, setTimeout(() => this.save(id), SAVE_DELAY));
      } else {
        this.drafts.set(id, { text, base: res.item.caption ?? '', status: 'saved', name: d.name });
      }
    } catch (e) {
      if (e instanceof ApiError && e.code === 'caption_changed') {
        this.drafts.set(id, { ...this.drafts.get(id), status: 'conflict', current: e.details?.current ?? '' });
      } else {
        this.drafts.set(id, { ...this.drafts.get(id), status: 'error', error: e.message });
        pushError(e);
      }
    }
  }

  /** Conflict resolution: keep mine (overwrite) or take theirs (drop the draft). */
  keepMine(id) {
    return this.save(id, { force: true });
  }

  takeTheirs(id) {
    const d = this.drafts.get(id);
    if (!d) return;
    this.drafts.set(id, { text: d.current ?? '', base: d.current ?? '', status: 'saved', name: d.name });
  }

  /** Another edit arrived for this item (websocket, undo): a clean draft just follows it. */
  external(item) {
    const d = this.drafts.get(item.id);
    if (!d) return;
    if (d.status === 'saved') {
      if ((item.caption ?? '') !== d.text) this.drafts.delete(item.id);
    }
    else if (d.status === 'unsaved' && (item.caption ?? '') !== d.base && (item.caption ?? '') !== d.text) {
      this.drafts.set(item.id, { ...d, status: 'conflict', current: item.caption ?? '' });
      clearTimeout(this.#timers.get(item.id));
    }
  }

  dispose() {
    for (const tm of this.#timers.values()) clearTimeout(tm);
  }
}

export class Selection {
  ids = new SvelteSet();
  anchor = $state(null); // index of the last plain click, for shift ranges

  get size() {
    return this.ids.size;
  }
  has(id) {
    return this.ids.has(id);
  }
  clear() {
    this.ids.clear();
    this.anchor = null;
  }
  toggle(id, index) {
    if (this.ids.has(id)) this.ids.delete(id);
    else this.ids.add(id);
    this.anchor = index;
  }
  setAll(ids) {
    this.ids.clear();
    for (const id of ids) this.ids.add(id);
  }
  async range(view, index, on = true) {
    const from = Math.min(this.anchor ?? index, index);
    const to = Math.max(this.anchor ?? index, index);
    const ids = await view.allIds();
    for (let i = from; i <= to && i < ids.length; i++) {
      if (on) this.ids.add(ids[i]);
      else this.ids.delete(ids[i]);
    }
  }
  target() {
    return { ids: [...this.ids] };
  }
}

// ---- uploads --------------------------------------------------------------------------------

const CHUNK_BYTES = 48 * 1024 * 1024;
const CHUNK_FILES = 250;

/** Walk a drop: files and whole folders (webkitGetAsEntry), each with its relative path. */
export async function filesFromDrop(dataTransfer) {
  const entries = [];
  for (const item of dataTransfer.items || []) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) entries.push({ file: f, path: f.name });
    }
  }
  if (!entries.length) return [...(dataTransfer.files || [])].map((f) => ({ file: f, path: f.name }));
  const out = [];
  async function walk(entry, prefix) {
    if (entry.file && entry.path) {
      out.push(entry);
    } else if (entry.isFile) {
      const file = await new Promise((res, rej) => entry.file(res, rej));
      out.push({ file, path: prefix + file.name });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      let batch;
      do {
        batch = await new Promise((res, rej) => reader.readEntries(res, rej));
        for (const e of batch) await walk(e, prefix + entry.name + '/');
      } while (batch.length);
    }
  }
  for (const e of entries) await walk(e, '');
  return out;
}

const abortedError = () => new ApiError(0, 'aborted', t('ds.upload.aborted'));

// One big file (a dataset zip, a long video) goes up in resumable chunks (lib/resumableUpload.js): a
// dropped connection resumes where the server stands, and choosing the same file again after a failure
// goes on from there. Cancelling drops it, as for any upload.
const RESUMABLE_BYTES = 64 * 1024 * 1024;

async function uploadOneBig(datasetId, file, state, slot, signal) {
  const target = { purpose: 'dataset', dataset_id: datasetId, slot };
  Object.assign(state, { total: file.size, files: 1, sent: 0, chunk: 1, chunks: 1 });
  try {
    const res = await uploadResumable(file, target, { onProgress: (sent) => (state.sent = sent), signal });
    return res.job;
  } catch (e) {
    if (signal?.aborted) {
      await cancelUpload(file, target);
      throw abortedError();
    }
    throw e;
  }
}

/** 16 hex digits: the upload id, chosen here so a cancel can discard even a first chunk whose answer never came. */
function newUploadId() {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function sendChunk(url, form, onProgress, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError());
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (fn, value) => {
      signal?.removeEventListener('abort', onAbort);
      fn(value);
    };
    xhr.open('POST', url);
    for (const [k, v] of Object.entries(tokenHeader())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded);
    xhr.onload = () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) settle(resolve, data);
      else {
        const e = data?.error || {};
        settle(reject, new ApiError(xhr.status, e.code || `http_${xhr.status}`, errorText({ code: e.code, message: e.message || xhr.statusText }), e.details));
      }
    };
    xhr.onerror = () => settle(reject, new ApiError(0, 'network_error', t('ds.upload.networkError')));
    xhr.onabort = () => settle(reject, abortedError());
    xhr.send(form);
  });
}

/** Upload many files in chunks; `state` ({sent, total, files, done}) is updated for the progress bar.
 *  Returns the import job started by the last chunk. Aborting `signal` (an AbortController's) stops the
 *  chunk in flight, discards the chunks the server already has (nothing is imported) and rejects with
 *  an ApiError whose code is 'aborted'. */
export async function uploadFiles(datasetId, entries, state, slot = 'media', signal = undefined) {
  if (entries.length === 1 && entries[0].file.size > RESUMABLE_BYTES) return uploadOneBig(datasetId, entries[0].file, state, slot, signal);
  const chunks = [];
  let cur = [];
  let bytes = 0;
  for (const e of entries) {
    if (cur.length && (bytes + e.file.size > CHUNK_BYTES || cur.length >= CHUNK_FILES)) {
      chunks.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(e);
    bytes += e.file.size;
  }
  if (cur.length) chunks.push(cur);
  state.total = entries.reduce((n, e) => n + e.file.size, 0) || 1;
  state.files = entries.length;
  state.sent = 0;
  state.chunk = 0;
  state.chunks = chunks.length;
  const uploadId = newUploadId();
  let job = null;
  let base = 0;
  try {
    for (let c = 0; c < chunks.length; c++) {
      if (signal?.aborted) throw abortedError();
      const form = new FormData();
      for (const e of chunks[c]) {
        form.append('files', e.file, e.file.name);
        form.append('paths', e.path || e.file.name);
      }
      form.append('upload_id', uploadId);
      if (c === 0) form.append('new', '1');
      form.append('final', c === chunks.length - 1 ? '1' : '0');
      form.append('slot', slot);
      state.chunk = c + 1;
      const size = chunks[c].reduce((n, e) => n + e.file.size, 0);
      const res = await sendChunk(dsUrl(datasetId, '/upload'), form, (loaded) => {
        state.sent = base + Math.min(loaded, size);
      }, signal);
      base += size;
      state.sent = base;
      job = res.job;
    }
  } catch (e) {
    // Nothing of a failed or cancelled upload is kept: the server drops the chunks it has.
    const discard = api.del(dsUrl(datasetId, `/upload/${uploadId}`), undefined, { quiet: true }).catch(() => {});
    if (signal?.aborted) {
      await discard;
      throw abortedError();
    }
    throw e;
  }
  return job;
}
