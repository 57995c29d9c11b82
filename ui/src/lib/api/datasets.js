// Client for the dataset area's endpoints as the dataset page and the create-task form use them
// (the item view, caption drafts and uploads talk to theirs in lib/datasets.svelte.js).
import { api } from '../api.js';
import { dsUrl } from '../datasets.svelte.js';

export const listDatasets = (opts) => api.get('/api/datasets', opts).then((r) => r.datasets);
export const createDataset = (body, opts) => api.post('/api/datasets', body, opts).then((r) => r.dataset);
/** Change name, type or trigger word: the dataset as saved. */
export const updateDataset = (id, changes, opts) => api.patch(dsUrl(id), changes, opts).then((r) => r.dataset);
/** Move a dataset to the trash. */
export const trashDataset = (id, opts) => api.del(dsUrl(id), undefined, opts);
export const restoreDataset = (id, opts) => api.post(dsUrl(id, '/restore'), {}, opts);
/** The trash: {datasets (trashed), item_counts: {dataset id: items in its own trash}}. */
export const listTrash = (opts) => api.get('/api/trash', opts);
export const purgeDataset = (id, opts) => api.post(`/api/trash/datasets/${encodeURIComponent(id)}/purge`, { confirm: true }, opts);
export const emptyTrash = (opts) => api.post('/api/trash/empty', { confirm: true }, opts);
/** {dataset, history} */
export const getDataset = (id, opts) => api.get(dsUrl(id), opts);
/** Pick up files other tools changed: {dataset, result: {added, removed, updated}}. */
export const rescan = (id, opts) => api.post(dsUrl(id, '/rescan'), {}, opts);
/** Import a folder on this computer; answers {job}. */
export const importLocal = (id, body, opts) => api.post(dsUrl(id, '/import'), body, opts);

export const trashEntries = (id, opts) => api.get(dsUrl(id, '/trash'), opts).then((r) => r.entries);
export const restoreFromTrash = (id, batch, opts) => api.post(dsUrl(id, '/trash/restore'), { batch }, opts);
export const deleteItems = (id, target, opts) => api.post(dsUrl(id, '/items/delete'), { target }, opts);
/** A caption operation (set, prepend, append, clear, tag edits) on a target: {changed, unchanged, missing, errors}. */
export const runOp = (id, op, params, target, opts) => api.post(dsUrl(id, '/ops'), { op, params, target }, opts);
/** 'undo' or 'redo' the dataset's last step: {step, changed, conflicts}. */
export const historyStep = (id, which, opts) => api.post(dsUrl(id, '/' + which), undefined, opts);

/** Control images for one item (image_control datasets): {item, added, skipped}. */
export function addControls(id, itemId, files, opts) {
  const form = new FormData();
  for (const f of files) form.append('files', f, f.name);
  return api.post(dsUrl(id, `/items/${itemId}/controls`), form, opts);
}
