// The dataset page's state and server calls (DatasetPage renders it; its header, toolbar and status area are
// components/datasets/Dataset*). Both tabs share the item view (filter, sort, pages), the selection, caption
// drafts and undo/redo; the page keeps what is the browser's: keys, drag and drop, file inputs, dialogs.
import * as datasets from './api/datasets.js';
import { pushError } from './errors.svelte.js';
import { subscribe } from './ws.svelte.js';
import { t } from './i18n/index.svelte.js';
import { confirmDialog } from './confirm.svelte.js';
import { followJob, FINAL } from './jobs.svelte.js';
import { ItemView, CaptionDrafts, Selection, uploadFiles, stepLabel } from './datasets.svelte.js';

const REFETCH_MS = 300; // item and count refetches after a burst of events

export class DatasetSession {
  notFound = $state(false); // false | 'dataset_not_found' | 'dataset_trashed'
  history = $state({ can_undo: false, can_redo: false, undo: null, redo: null }); // Steps, as GET history
  historyBusy = $state(false);
  upload = $state(null); // {sent, total, files, chunk, chunks, slot, cancelling}
  job = $state(null); // the import job in progress (or failed)
  report = $state(null); // a finished import's report
  thumbs = $state(null); // thumbnail progress {done, total} while it runs
  notice = $state(null); // {text, kind, action}
  rescanning = $state(false);
  trashCount = $state(0); // entries in this dataset's trash
  // The last batch delete made here, while nothing newer was done: Undo puts it back from the trash.
  lastDelete = $state(null); // {batch, n, undoId}
  tagsVersion = $state(0); // bumps when the tag editor's counts must be refetched
  #uploadAbort = null; // AbortController of the upload in progress
  #stopJob = null;
  #offEvents = null;
  #timers = { notice: 0, refresh: 0, stats: 0 };

  constructor(id) {
    this.id = id;
    this.view = new ItemView(id);
    this.drafts = new CaptionDrafts(id, this.view);
    this.selection = new Selection();
    // What the page's children share (the grid, tag editor and viewer take `ctx`).
    this.ctx = $state({ id, dataset: null, view: this.view, drafts: this.drafts, selection: this.selection });
    this.view.onDataset = (ds) => (this.ctx.dataset = ds);
  }

  /** The history buttons' state: a batch delete made here is what Undo undoes first. */
  shownHistory = $derived(this.lastDelete
    ? { ...this.history, can_undo: true, undo: { op: 'delete_items', params: { n: this.lastDelete.n } } }
    : this.history);

  pct = $derived(this.upload ? Math.min(100, Math.round((100 * this.upload.sent) / this.upload.total)) : 0);

  say(text, kind = 'ok', ms = 5000, action = null) {
    clearTimeout(this.#timers.notice);
    this.notice = { text, kind, action };
    if (ms) this.#timers.notice = setTimeout(() => (this.notice = null), ms);
  }

  // GET history, undo/redo answers and the websocket `history` event all carry {can_undo, can_redo, undo, redo}.
  setHistory(h) {
    if (this.lastDelete && (h.undo?.id ?? null) !== this.lastDelete.undoId) this.lastDelete = null;
    this.history = { can_undo: !!h.can_undo, can_redo: !!h.can_redo, undo: h.undo ?? null, redo: h.redo ?? null };
  }

  // --- loading and live updates ------------------------------------------------------------------
  /** Load the dataset, follow its events and pick up files changed while the app was not looking. */
  start() {
    this.loadTrashCount().catch(() => {});
    this.#offEvents = subscribe(`dataset:${this.id}`, (ev) => this.onEvent(ev));
    this.loadDataset().then(() => {
      if (this.notFound) return;
      this.view.reset().catch(() => {});
      datasets.rescan(this.id, { quiet: true }).then((r) => {
        this.ctx.dataset = r.dataset;
        if (r.result.added || r.result.removed || r.result.updated) this.scheduleRefresh();
      }).catch(() => {});
    });
  }

  dispose() {
    this.#offEvents?.();
    this.drafts.flushAll();
    this.drafts.dispose();
    this.#stopJob?.();
    for (const timer of Object.values(this.#timers)) clearTimeout(timer);
  }

  async loadDataset() {
    try {
      const res = await datasets.getDataset(this.id, { quiet: true });
      this.ctx.dataset = res.dataset;
      this.setHistory(res.history);
    } catch (e) {
      if (e.code === 'dataset_not_found' || e.code === 'dataset_trashed') this.notFound = e.code;
      else throw e;
    }
  }

  scheduleRefresh() {
    clearTimeout(this.#timers.refresh);
    this.#timers.refresh = setTimeout(() => {
      this.view.refresh();
      this.tagsVersion++;
    }, REFETCH_MS);
  }

  // The counts in the header (N 项 · M 项已打标) come from the dataset record: refetch it (at most every
  // 300 ms) whenever items or captions change, whoever changed them (auto-tag, undo, another window).
  scheduleStats() {
    clearTimeout(this.#timers.stats);
    this.#timers.stats = setTimeout(() => {
      datasets.getDataset(this.id, { quiet: true }).then((res) => { this.ctx.dataset = res.dataset; }).catch(() => {});
    }, REFETCH_MS);
  }

  async loadTrashCount() {
    this.trashCount = (await datasets.trashEntries(this.id, { quiet: true })).length;
  }

  onEvent(ev) {
    const d = ev.data;
    switch (ev.type) {
      case 'item_updated':
        this.drafts.external(d);
        this.view.update(d);
        this.tagsVersion++;
        this.scheduleStats();
        break;
      case 'items_added':
      case 'items_removed':
      case 'items_updated':
      case 'item_broken':
      case 'import_finished':
        this.scheduleRefresh();
        this.scheduleStats();
        break;
      case 'dataset_updated':
        this.ctx.dataset = d;
        break;
      case 'thumbnails':
        this.thumbs = d.done >= d.total ? null : d;
        break;
      case 'history':
        this.setHistory(d);
        break;
      case 'dataset_trashed':
        this.notFound = 'dataset_trashed';
        break;
    }
  }

  // --- selection ---------------------------------------------------------------------------------
  async select(item, index, shift) {
    const selection = this.selection;
    if (shift && selection.anchor != null) {
      await selection.range(this.view, index, true);
      selection.anchor = index;
    } else {
      selection.toggle(item.id, index);
    }
  }

  async selectAll() {
    this.selection.setAll(await this.view.allIds());
  }

  async invert() {
    const all = await this.view.allIds();
    this.selection.setAll(all.filter((i) => !this.selection.has(i)));
  }

  // --- batch actions -----------------------------------------------------------------------------
  async deleteSelected() {
    const n = this.selection.size;
    const ok = await confirmDialog({
      title: t('ds.batch.delete.title'),
      message: t('ds.batch.delete.message', { n }),
      confirmLabel: t('ds.batch.delete.confirm', { n }),
      danger: true,
    });
    if (!ok) return;
    const res = await datasets.deleteItems(this.id, this.selection.target());
    this.selection.clear();
    this.lastDelete = res.deleted ? { batch: res.batch, n: res.deleted, undoId: this.history.undo?.id ?? null } : null;
    this.say(t('ds.batch.deleted', { n: res.deleted }), 'ok', 10000,
      this.lastDelete ? { label: t('ux.itemTrash.undoDelete'), run: () => this.undoDelete(), testid: 'undo-delete' } : null);
    this.view.refresh();
    this.loadTrashCount().catch(() => {});
  }

  async undoDelete() {
    const del = this.lastDelete;
    if (!del) return;
    this.lastDelete = null;
    const res = await datasets.restoreFromTrash(this.id, del.batch);
    this.say(t('ux.itemTrash.restored', { n: res.restored.length }));
    this.trashRestored();
  }

  /** Items came back from the trash (here or in the trash dialog). */
  trashRestored() {
    this.view.refresh();
    this.scheduleStats();
    this.loadTrashCount().catch(() => {});
  }

  async runOp(op, params, target = this.selection.target()) {
    await this.drafts.flushAll();
    const res = await datasets.runOp(this.id, op, params, target);
    this.say(t('ds.op.result', { changed: res.changed, unchanged: res.unchanged }) + (res.missing?.length ? ' ' + t('ds.op.missing', { n: res.missing.length }) : '')
      + (res.errors?.length ? ' ' + t('ds.op.errors', { n: res.errors.length, names: res.errors.slice(0, 3).map((e) => e.name).join(', ') }) : ''),
      res.errors?.length ? 'warn' : undefined);
    return res;
  }

  async clearCaptions() {
    const n = this.selection.size;
    const ok = await confirmDialog({
      title: t('ds.batch.clear.title'),
      message: t('ds.batch.clear.message', { n }),
      confirmLabel: t('ds.batch.clear.confirm'),
      danger: true,
    });
    if (ok) await this.runOp('clear', {});
  }

  // --- history -----------------------------------------------------------------------------------
  async undoRedo(which) {
    if (this.historyBusy) return;
    this.historyBusy = true;
    try {
      await this.drafts.flushAll();
      if (which === 'undo' && this.lastDelete) {
        await this.undoDelete();
        return;
      }
      const res = await datasets.historyStep(this.id, which);
      const what = stepLabel(res.step);
      let text = t(which === 'undo' ? 'ds.history.undone' : 'ds.history.redone', { what, n: res.changed });
      if (res.conflicts?.length) text += ' ' + t('ds.history.conflicts', { n: res.conflicts.length, names: res.conflicts.slice(0, 3).join(', ') });
      this.say(text, res.conflicts?.length ? 'warn' : 'ok', res.conflicts?.length ? 10000 : 4000);
      this.tagsVersion++;
    } finally {
      this.historyBusy = false;
    }
  }

  // --- upload / import ---------------------------------------------------------------------------
  watchJob(j) {
    this.#stopJob?.();
    this.job = j;
    this.report = null;
    this.#stopJob = followJob(j.id, (next) => {
      this.job = next;
      if (FINAL.includes(next.status)) {
        this.view.refresh();
        this.loadDataset();
        if (next.result) this.report = next.result;
        // a finished import is summed up by its report; a failed one stays with its error
        if (next.status === 'done' && next.result) this.job = null;
      }
    });
  }

  async startUpload(entries, slot = 'media') {
    if (!entries.length) return;
    if (this.upload) {
      this.say(t('ds.upload.busy'), 'warn');
      return;
    }
    this.upload = { sent: 0, total: 1, files: entries.length, chunk: 0, chunks: 1, slot, cancelling: false };
    const controller = new AbortController();
    this.#uploadAbort = controller;
    try {
      const j = await uploadFiles(this.id, entries, this.upload, slot, controller.signal);
      if (j) this.watchJob(j);
    } catch (e) {
      if (controller.signal.aborted) this.say(t('ds.upload.cancelled', { n: entries.length }), 'warn', 8000);
      else pushError(e);
    } finally {
      if (this.#uploadAbort === controller) this.#uploadAbort = null;
      this.upload = null;
    }
  }

  /** Stop the upload: the chunk in flight is aborted and the chunks already sent are discarded. */
  cancelUpload() {
    if (!this.upload || !this.#uploadAbort) return;
    this.upload.cancelling = true;
    this.#uploadAbort.abort();
  }

  async importLocal(body) {
    const res = await datasets.importLocal(this.id, body, { quiet: true });
    this.watchJob(res.job);
  }

  async addControls(item, files) {
    if (!files.length) return;
    const res = await datasets.addControls(this.id, item.id, files);
    this.view.update(res.item);
    if (res.skipped?.length) this.say(t('ds.control.skipped', { n: res.skipped.length }), 'warn');
    else this.say(t('ds.control.added', { n: res.added.length }));
  }

  async rescan() {
    this.rescanning = true;
    try {
      const res = await datasets.rescan(this.id);
      this.ctx.dataset = res.dataset;
      this.view.refresh();
      this.tagsVersion++;
      this.say(t('ds.rescan.result', res.result));
    } finally {
      this.rescanning = false;
    }
  }
}
