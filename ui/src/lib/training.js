// Training pages: the task-type table from the server, the create form <-> task config mapping,
// and display helpers (the VRAM estimate is the server's: POST /api/tasks/vram).
// Architectures are data (GET /api/task-types): nothing here knows a task type by name.
import { api } from './api.js';
import { t, hasKey } from './i18n/index.svelte.js';

export const STAGES = ['cache_latents', 'cache_pixels', 'cache_text_encoder', 'train'];
export const ACTIVE = ['queued', 'running', 'stopping'];
export const RUNNING = ['running', 'stopping'];
// A task's statuses once its run is over (a job's are jobs.svelte.js FINAL: 'cancelled', not 'stopped').
export const TASK_FINAL = ['done', 'failed', 'stopped', 'interrupted'];

let typesPromise = null;
/** The task-type table, fetched once per page load. */
export function loadTaskTypes() {
  if (!typesPromise) {
    typesPromise = api.get('/api/task-types').catch((e) => {
      typesPromise = null;
      throw e;
    });
  }
  return typesPromise;
}

// Server errors are translated in one place (lib/errors.svelte.js), by code.
export { errorText } from './errors.svelte.js';

export const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
export const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export function variantOf(ttype, key) {
  return ttype?.variants.find((v) => v.key === key) || ttype?.variants[0];
}

/** Keys any VRAM preset of this variant sets: editing one of them makes the preset "custom". */
export function presetKeys(variant) {
  const keys = new Set();
  for (const values of Object.values(variant?.presets || {})) for (const k of Object.keys(values)) keys.add(k);
  return keys;
}

/** The value a field has when the user did not touch it (type default, or the preset's value). */
export function baseValue(field, variant, preset) {
  const p = variant?.presets?.[preset];
  if (p && field.section === 'training' && field.key in p) return p[field.key];
  // Dataset settings of the variant over the type's (Wan FLF2V one-frame: control indices [0, 2]).
  const d = variant?.dataset_defaults;
  if (d && field.section === 'dataset' && field.key in d) return d[field.key];
  return field.default;
}

/** Does a field apply for the chosen dataset type (fields can be video-only, control-only)? */
export function fieldApplies(field, datasetType, variant) {
  if (!field.dataset_types) return true;
  const types = datasetType ? [datasetType] : variant?.dataset_types || [];
  return field.dataset_types.some((t) => types.includes(t));
}

export function modelApplies(model, variantKey, training) {
  if (model.variants && !model.variants.includes(variantKey)) return false;
  // A model can be tied to the value of a training field (Wan 2.2: which experts are trained).
  if (model.experts && !model.experts.includes(training?.experts)) return false;
  return true;
}

/** A fresh form for a task type: every field at its base value for the preset. */
export function emptyForm(ttype, { preset = 'medium', variant } = {}) {
  const v = variantOf(ttype, variant);
  const training = {};
  const dataset = {};
  for (const f of ttype.fields) (f.section === 'training' ? training : dataset)[f.key] = clone(baseValue(f, v, preset));
  const s = { ...(ttype.defaults?.samples || {}), ...(v.sample_defaults || {}) };
  return {
    name: '', task_type: ttype.id, variant: v.key, dataset_id: '', gpus: [0], vram_preset: preset,
    models: Object.fromEntries(ttype.models.map((m) => [m.key, ''])),
    training, dataset,
    samples: {
      schedule: 'epochs', every_n: 1, at_first: false,
      width: s.width ?? null, height: s.height ?? null, frames: s.frames ?? null,
      steps: s.steps ?? null, guidance: s.guidance ?? null,
      prompts: [],
    },
    extra: '',
  };
}

/** Load a stored task config (clone, user preset) into a form of its type. */
export function formFromConfig(ttype, cfg) {
  const form = emptyForm(ttype, { preset: cfg.vram_preset || 'medium', variant: cfg.variant });
  form.name = cfg.name || '';
  form.dataset_id = cfg.dataset_id || '';
  form.gpus = cfg.gpus?.length ? [...cfg.gpus] : [0];
  for (const [k, v] of Object.entries(cfg.models || {})) form.models[k] = v || '';
  for (const [k, v] of Object.entries(cfg.training || {})) if (k in form.training) form.training[k] = clone(v);
  for (const [k, v] of Object.entries(cfg.dataset || {})) if (k in form.dataset) form.dataset[k] = clone(v);
  const s = cfg.samples || {};
  const fs = form.samples;
  fs.schedule = s.every_n_steps ? 'steps' : s.every_n_epochs ? 'epochs' : (s.prompts?.length ? 'off' : 'epochs');
  fs.every_n = s.every_n_steps || s.every_n_epochs || 1;
  fs.at_first = !!s.at_first;
  for (const k of ['width', 'height', 'frames', 'steps', 'guidance']) if (s[k] != null) fs[k] = s[k];
  fs.prompts = (s.prompts || []).map(promptToForm);
  form.extra = joinArgs(cfg.extra_args || []);
  return form;
}

function promptToForm(p) {
  const out = { prompt: p.prompt || '' };
  for (const [k, v] of Object.entries(p)) if (k !== 'prompt') out[k] = Array.isArray(v) ? v.join('\n') : v;
  return out;
}

export function newPrompt() {
  return { prompt: '', seed: 42 };
}

/** The task config the server takes (only values that differ from their base are sent). */
export function formToConfig(ttype, form, datasetType) {
  const v = variantOf(ttype, form.variant);
  const preset = form.vram_preset;
  const training = {};
  const dataset = {};
  for (const f of ttype.fields) {
    if (!fieldApplies(f, datasetType, v)) continue;
    const value = (f.section === 'training' ? form.training : form.dataset)[f.key];
    const base = preset === 'custom' ? f.default : baseValue(f, v, preset);
    if (!same(value, base)) (f.section === 'training' ? training : dataset)[f.key] = clone(value);
  }
  const models = {};
  for (const m of ttype.models) {
    if (modelApplies(m, v.key, form.training) && form.models[m.key]?.trim()) models[m.key] = form.models[m.key].trim();
  }
  const fs = form.samples;
  const samples = { at_first: !!fs.at_first, prompts: [] };
  if (fs.schedule === 'epochs') samples.every_n_epochs = fs.every_n || 1;
  if (fs.schedule === 'steps') samples.every_n_steps = fs.every_n || 1;
  for (const k of ['width', 'height', 'frames', 'steps', 'guidance']) {
    if (fs[k] != null && fs[k] !== '' && (k !== 'frames' || ttype.sample_options.includes('frames'))) samples[k] = Number(fs[k]);
  }
  if (fs.schedule === 'off') samples.at_first = false;
  for (const p of fs.prompts) {
    if (!p.prompt?.trim() && fs.prompts.length === 1 && fs.schedule === 'off') continue;
    const out = { prompt: (p.prompt || '').trim() };
    for (const key of ttype.sample_options) {
      const val = p[key];
      if (val == null || val === '') continue;
      if (key === 'control_images') out[key] = String(val).split('\n').map((s) => s.trim()).filter(Boolean);
      else if (['negative', 'image', 'end_image', 'one_frame'].includes(key)) out[key] = String(val).trim();
      else out[key] = Number(val);
    }
    samples.prompts.push(out);
  }
  if (fs.schedule === 'off') samples.prompts = samples.prompts.filter((p) => p.prompt);
  return {
    name: form.name.trim(), task_type: ttype.id, variant: v.key, dataset_id: form.dataset_id || null,
    gpus: [...form.gpus].sort((a, b) => a - b), vram_preset: preset, models, training, dataset, samples,
    extra_args: splitArgs(form.extra),
  };
}

/** Split a command-line fragment into argv tokens (double or single quotes group words). */
export function splitArgs(text) {
  const out = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m;
  while ((m = re.exec(text || ''))) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

export function joinArgs(argv) {
  return argv.map((a) => (/[\s"']/.test(a) || a === '' ? `"${a}"` : a)).join(' ');
}

/** How a command line looks in a console (for the preview; copy-paste friendly). */
export function commandLine(argv, windows = false) {
  const quote = (a) => {
    if (a !== '' && /^[\w@%+=:,./\\-]+$/.test(a)) return a;
    return windows ? `"${a.replace(/"/g, '\\"')}"` : `'${a.replace(/'/g, `'\\''`)}'`;
  };
  return argv.map(quote).join(' ');
}

// --- LoRA+ (an entry of network_args) -------------------------------------------------------------

export function loraPlusRatio(networkArgs) {
  const entry = (networkArgs || []).find((a) => a.startsWith('loraplus_lr_ratio='));
  return entry ? Number(entry.split('=')[1]) : null;
}

export function withLoraPlus(networkArgs, ratio) {
  const rest = (networkArgs || []).filter((a) => !a.startsWith('loraplus_lr_ratio='));
  return ratio == null || ratio === '' || Number.isNaN(Number(ratio)) ? rest : [...rest, `loraplus_lr_ratio=${Number(ratio)}`];
}

// --- display helpers ------------------------------------------------------------------------------

export function fmtRate(p) {
  if (!p || p.rate == null) return '–';
  return `${Number(p.rate).toFixed(2)} ${p.rate_unit || 'it/s'}`;
}

export function fmtLoss(v) {
  if (v == null || !isFinite(v)) return '–';
  return Math.abs(v) >= 0.01 ? v.toFixed(4) : v.toPrecision(3);
}

/** Why a failed task failed, in the UI's language: {text, hint, line} from the run's `failure`
 * record (server/training/exit_status.py); tasks without one fall back to the stored English text. */
export function failureOf(task) {
  const f = ['failed', 'interrupted'].includes(task?.status) ? task.run?.failure : null;
  if (!f) return task?.error ? { text: task.error, hint: '', line: '' } : null;
  const stage = t('training.stage.' + f.stage);
  const params = { ...f, stage, name: f.name ? `(${f.name})` : '' };
  return {
    text: t('training.failure.' + f.code, params),
    hint: f.hint ? t('training.failure.hint.' + f.hint) : '',
    line: f.line || '',
  };
}

/** Percent done of a task's progress record (0-100) or null. */
export function percentOf(progress) {
  if (!progress) return null;
  if (progress.total_steps && progress.step != null) return Math.min(100, (100 * progress.step) / progress.total_steps);
  return progress.percent ?? null;
}

/** Seconds the task has been (or was) running. */
export function elapsedOf(task, now = Date.now() / 1000) {
  if (!task?.started_at) return null;
  const end = ACTIVE.includes(task.status) ? now : task.finished_at || now;
  return Math.max(0, end - task.started_at);
}

/** Full path of a file inside a task folder, with the folder's own separator. */
export function taskFilePath(task, relative) {
  const sep = task.folder.includes('\\') ? '\\' : '/';
  return [task.folder, ...relative.split('/')].join(sep);
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

/** Exponential moving average with TensorBoard's debiasing (so the start is not pulled to 0). */
export function ema(values, weight) {
  const out = [];
  let last = 0;
  let n = 0;
  for (const v of values) {
    if (v == null || !isFinite(v)) {
      out.push(null);
      continue;
    }
    last = last * weight + (1 - weight) * v;
    n += 1;
    out.push(weight > 0 ? last / (1 - weight ** n) : v);
  }
  return out;
}

/** Samples grouped by when they were made: [{key, step, epoch, items: {promptIndex: sample}}], oldest first. */
export function groupSamples(samples) {
  const groups = new Map();
  for (const s of samples) {
    const key = s.step != null ? `s${s.step}` : `e${s.epoch}`;
    if (!groups.has(key)) groups.set(key, { key, step: s.step, epoch: s.epoch, items: {}, time: s.time });
    groups.get(key).items[s.prompt_index] = s;
  }
  return [...groups.values()];
}

// --- GPUs and the queue ---------------------------------------------------------------------------

/** "NVIDIA GeForce RTX 4090" -> "RTX 4090" (the vendor words add nothing in a narrow column). */
export function shortGpuName(name) {
  return String(name || '').replace(/^NVIDIA\s+/i, '').replace(/^GeForce\s+/i, '').trim();
}

/** { index, name, full } for a GPU index, named from the system monitor's readings when known. */
export function gpuInfo(index, gpus) {
  const g = (gpus || []).find((x) => x.index === index);
  return { index, name: g ? shortGpuName(g.name) : '', full: g?.name || '' };
}

/** "GPU 0 · RTX 4090", or "GPU 0" when the monitor does not know that GPU. */
export function gpuLabel(index, gpus) {
  const g = gpuInfo(index, gpus);
  return g.name ? t('training.gpu.named', { n: index, name: g.name }) : t('training.gpu.index', { n: index });
}

/** The labels of a task's GPUs, joined (GPU 0 when it names none). */
export function taskGpuLabel(task, gpus) {
  return (task?.gpus?.length ? task.gpus : [0]).map((i) => gpuLabel(i, gpus)).join(', ');
}

/**
 * The queue after moving task `id` one place up (dir -1) or down (+1) in the line of GPU `gpu`:
 * it goes just before (after) its neighbour there. Tasks on other GPUs keep their places.
 * Returns the new order of ids, or null when it cannot move that way.
 */
export function moveInQueue(queue, id, gpu, dir) {
  const lane = queue.filter((e) => (e.gpus?.length ? e.gpus : [0]).includes(gpu)).map((e) => e.id);
  const i = lane.indexOf(id);
  const neighbour = lane[i + dir];
  if (i < 0 || neighbour === undefined) return null;
  return placeNear(queue.map((e) => e.id), id, neighbour, dir > 0);
}

/** The queue after dropping task `id` at place `to` (0-based) of GPU `gpu`'s line (drag and drop). */
export function moveToInQueue(queue, id, gpu, to) {
  const lane = queue.filter((e) => (e.gpus?.length ? e.gpus : [0]).includes(gpu)).map((e) => e.id).filter((x) => x !== id);
  if (!lane.length || to < 0) return null;
  const after = to >= lane.length;
  return placeNear(queue.map((e) => e.id), id, lane[Math.min(to, lane.length - 1)], after);
}

function placeNear(order, id, other, after) {
  const rest = order.filter((x) => x !== id);
  const j = rest.indexOf(other) + (after ? 1 : 0);
  const out = [...rest.slice(0, j), id, ...rest.slice(j)];
  return out.join() === order.join() ? null : out;
}
