// Client for the training area's endpoints (tasks, user presets, the checks the create form runs).
// Each function is one request; callers pass `opts` ({quiet}) where a failure is theirs to show.
import { api } from '../api.js';

const enc = encodeURIComponent;

export const listTasks = (opts) => api.get('/api/tasks', opts).then((r) => r.tasks);
export const getTask = (id, opts) => api.get(`/api/tasks/${id}`, opts).then((r) => r.task);
export const createTask = (config, opts) => api.post('/api/tasks', config, opts).then((r) => r.task);
export const updateTask = (id, config, opts) => api.patch(`/api/tasks/${id}`, config, opts).then((r) => r.task);
export const startTask = (id, opts) => api.post(`/api/tasks/${id}/start`, {}, opts);

// The task page's reads of one task.
/** {checkpoints, samples, states, converted} */
export const taskOutputs = (id, opts) => api.get(`/api/tasks/${id}/outputs`, opts);
/** The latest run's loss points with a step above `since` (-1: all). */
export const taskLoss = (id, since, opts) => api.get(`/api/tasks/${id}/loss?since=${since}`, opts).then((r) => r.points);
/** The end (up to `tail` bytes) of one stage's log of the latest run. */
export const taskLog = (id, stage, tail, opts) => api.get(`/api/tasks/${id}/log?stage=${enc(stage)}&tail=${tail}`, opts).then((r) => r.text);
/** A saved task's command lines and config files (CommandPreview). */
export const taskPreview = (id, opts) => api.get(`/api/tasks/${id}/preview`, opts);

/** The command lines, config files and trainer problems a config would give (nothing is saved). */
export const previewTask = (config, opts) => api.post('/api/tasks/preview', config, opts);
/** {estimate_gb, presets: {high, medium, low}} for a config (training/vram.py). */
export const estimateVram = (config, opts) => api.post('/api/tasks/vram', config, opts);
/** path -> {exists, is_file, size} for the model / sample image paths of a form. */
export const checkPaths = (paths, opts) => api.post('/api/tasks/check-paths', { paths }, opts).then((r) => r.results);

export const listPresets = (opts) => api.get('/api/task-presets', opts).then((r) => r.presets);
export const savePreset = (name, config, opts) => api.put(`/api/task-presets/${enc(name)}`, { config }, opts).then((r) => r.preset);
export const deletePreset = (name, opts) => api.del(`/api/task-presets/${enc(name)}`, undefined, opts);

// The model library (Settings) as the create form uses it.
/** role -> path of the library's files for a task type and variant. */
export const modelDefaults = (taskType, variant, opts) =>
  api.get(`/api/models/defaults?task_type=${enc(taskType)}&variant=${enc(variant)}`, opts).then((r) => r.models || {});
/** The library's check of one model file for a role ({status, problems}). */
export const checkModel = (path, taskType, role, opts) => api.post('/api/models/check', { path, task_type: taskType, role }, opts);
