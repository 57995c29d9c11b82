// The datasets page's state and server calls (DatasetsPage renders it; a row is components/datasets/DatasetRow,
// the trash view components/datasets/TrashList): the list, kept live through the `datasets` topic, creating
// (named in place), renaming, moving to the trash and back, purging.
import * as datasets from './api/datasets.js';
import { subscribe } from './ws.svelte.js';
import { t } from './i18n/index.svelte.js';
import { confirmDialog } from './confirm.svelte.js';

const RELOAD_MS = 250; // list refetch after a burst of events

export class DatasetList {
  datasets = $state([]);
  loaded = $state(false);
  showTrash = $state(false);
  trash = $state({ datasets: [], item_counts: {} });
  creating = $state(false);
  renaming = $state(null); // id of the dataset renamed in place
  renameText = $state('');
  #timer = 0;
  #off = null;

  constructor({ showTrash = false } = {}) {
    this.showTrash = showTrash;
  }

  /** Items deleted from datasets that are still in the list (a trashed dataset's items go with it). */
  itemTrash = $derived(this.datasets.filter((d) => this.trash.item_counts[d.id]).map((d) => ({ ds: d, n: this.trash.item_counts[d.id] })));
  trashedItemTotal = $derived(Object.values(this.trash.item_counts).reduce((a, b) => a + b, 0));

  start() {
    this.load();
    if (this.showTrash) this.loadTrash();
    this.#off = subscribe('datasets', () => this.scheduleReload());
  }

  dispose() {
    this.#off?.();
    clearTimeout(this.#timer);
  }

  async load() {
    this.datasets = await datasets.listDatasets();
    this.loaded = true;
  }

  async loadTrash() {
    this.trash = await datasets.listTrash();
  }

  scheduleReload() {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.load();
      if (this.showTrash) this.loadTrash();
    }, RELOAD_MS);
  }

  /** "新数据集", or "新数据集 2", 3... when taken. */
  freeName() {
    const base = t('ds.defaultName');
    const taken = new Set(this.datasets.map((d) => d.name));
    if (!taken.has(base)) return base;
    let n = 2;
    while (taken.has(`${base} ${n}`)) n++;
    return `${base} ${n}`;
  }

  /** A new image dataset under a free name, first in the list and renamed in place. */
  async create() {
    this.creating = true;
    try {
      const ds = await datasets.createDataset({ name: this.freeName(), type: 'image' });
      this.datasets = [ds, ...this.datasets.filter((d) => d.id !== ds.id)];
      this.startRename(ds);
    } finally {
      this.creating = false;
    }
  }

  startRename(ds) {
    this.renaming = ds.id;
    this.renameText = ds.name;
  }

  cancelRename() {
    this.renaming = null;
  }

  async commitRename(ds) {
    if (this.renaming !== ds.id) return;
    const name = this.renameText.trim();
    this.renaming = null;
    if (!name || name === ds.name) return;
    this.saved(await datasets.updateDataset(ds.id, { name }));
  }

  /** A dataset saved elsewhere (the editor) replaces its row. */
  saved(ds) {
    this.datasets = this.datasets.map((d) => (d.id === ds.id ? ds : d));
  }

  async remove(ds) {
    const ok = await confirmDialog({
      title: t('ds.delete.title'),
      message: t('ds.delete.message', { name: ds.name, n: ds.item_count }),
      confirmLabel: t('ds.delete.confirm'),
      danger: true,
    });
    if (!ok) return;
    await datasets.trashDataset(ds.id);
    this.datasets = this.datasets.filter((d) => d.id !== ds.id);
    if (this.showTrash) this.loadTrash();
  }

  // --- the trash ---------------------------------------------------------------------------------
  async toggleTrash() {
    this.showTrash = !this.showTrash;
    if (this.showTrash) await this.loadTrash();
  }

  async restore(ds) {
    await datasets.restoreDataset(ds.id);
    await Promise.all([this.load(), this.loadTrash()]);
  }

  async purge(ds) {
    const ok = await confirmDialog({
      title: t('ds.trash.purgeTitle'),
      message: t('ds.trash.purgeMessage', { name: ds.name }),
      confirmLabel: t('ds.trash.purge'),
      danger: true,
    });
    if (!ok) return;
    await datasets.purgeDataset(ds.id);
    await this.loadTrash();
  }

  async emptyTrash() {
    const ok = await confirmDialog({
      title: t('ds.trash.emptyTitle'),
      message: t('ux.trash.emptyMessage', { datasets: this.trash.datasets.length, items: this.trashedItemTotal }),
      confirmLabel: t('ds.trash.empty'),
      danger: true,
    });
    if (!ok) return;
    await datasets.emptyTrash();
    await this.loadTrash();
  }
}
