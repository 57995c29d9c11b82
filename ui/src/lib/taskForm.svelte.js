// The create-task form's state and behaviour (NewTaskPage renders it; the sections under
// components/training/ edit it). The form is generated from the task-type table (GET /api/task-types):
// the VRAM preset switches to custom when a field it controls is edited, the VRAM figures, path checks
// and model-library verdicts come from the server, and a start that is refused keeps its task as a draft
// that the next attempt patches instead of duplicating.
import * as tasks from './api/tasks.js';
import { listDatasets } from './api/datasets.js';
import { pushError } from './errors.svelte.js';
import { t } from './i18n/index.svelte.js';
import { problemTitle, problemDetail } from './runtime.js';
import {
  loadTaskTypes, variantOf, presetKeys, emptyForm, formFromConfig, formToConfig, modelApplies, baseValue,
  fieldApplies, clone, same,
} from './training.js';

export const PRESETS = ['high', 'medium', 'low'];
// Which group each field is in, and the order, come with the table (fields.FORM_GROUPS, `form_groups`);
// here only how some fields are drawn: each pair is ONE "epochs or steps" picker at its first field's place
// (one of the two is set, the other null), a field in SHOWN_WHILE shows only while that bool field is on,
// and the LoRA+ ratio (kept in network_args) is drawn after LORA_PLUS_AFTER.
export const PICKERS = { duration: ['max_train_epochs', 'max_train_steps'], saveEvery: ['save_every_n_epochs', 'save_every_n_steps'] };
export const SHOWN_WHILE = { bucket_no_upscale: 'enable_bucket' };
export const LORA_PLUS_AFTER = 'network_alpha';

const DEBOUNCE_MS = { vram: 250, paths: 400, models: 400 };

export class TaskForm {
  table = $state(null);
  form = $state(null);
  datasets = $state([]);
  existing = $state([]);
  userPresets = $state([]);
  errors = $state({}); // field path ('training.learning_rate', 'models.dit', 'name' ...) -> message
  pathState = $state({}); // path -> POST /api/tasks/check-paths result
  verdicts = $state({}); // `${task_type}|${role}|${path}` -> the model library's check (POST /api/models/check)
  vram = $state(null); // {estimate_gb, presets: {high, medium, low}}
  busy = $state(false);
  advancedOpen = $state(false);
  loadedFrom = $state(''); // the "start from" choice: '', 'preset:<name>' or 'task:<id>'
  presetName = $state('');
  draftId = null; // a task created by an earlier attempt whose start was refused: patched, not duplicated
  #vramAsked = 0;
  #libraryFor = '';

  ttype = $derived(this.table && this.form ? this.table.task_types.find((x) => x.id === this.form.task_type) : null);
  variant = $derived(this.ttype ? variantOf(this.ttype, this.form.variant) : null);
  dataset = $derived(this.form ? this.datasets.find((d) => d.id === this.form.dataset_id) : null);
  datasetType = $derived(this.dataset?.type || null);
  accepted = $derived(this.datasets.filter((d) => this.variant?.dataset_types.includes(d.type)));
  pKeys = $derived(presetKeys(this.variant));
  applicable = $derived(this.ttype ? this.ttype.fields.filter((f) => fieldApplies(f, this.datasetType, this.variant)) : []);
  byKey = $derived(Object.fromEntries(this.applicable.map((f) => [f.key, f])));
  /** Group key (task, dataset, training, advanced) -> the fields of that group this type shows, in order. */
  groups = $derived(Object.fromEntries((this.table?.form_groups || [])
    .map((g) => [g.key, g.fields.map((k) => this.byKey[k]).filter(Boolean)])));
  models = $derived(this.ttype ? this.ttype.models.filter((m) => modelApplies(m, this.variant.key, this.form.training)) : []);
  estimate = $derived(this.vram?.estimate_gb ?? null);
  presetEstimates = $derived(this.vram?.presets ?? {});
  durationMode = $derived(this.form?.training.max_train_epochs != null ? 'epochs' : 'steps');
  saveMode = $derived(this.form?.training.save_every_n_steps != null && this.form?.training.save_every_n_epochs == null ? 'steps' : 'epochs');
  warmupOff = $derived(this.form?.training.lr_scheduler === 'constant');

  /** The config the server takes for the form as it is. */
  config() {
    return formToConfig(this.ttype, this.form, this.datasetType);
  }

  /** The config the pre-flight check reads (the panel re-checks when it changes); null until a dataset is chosen. */
  preflightBody = $derived(this.ttype && this.form?.dataset_id ? { ...this.config(), name: this.form.name.trim() || 'preflight' } : null);

  // --- loading -----------------------------------------------------------------------------------
  /** Start with what the page loaded: the task-type table, datasets, user presets, existing tasks. */
  setup(table, lists = {}) {
    this.#lists(table, lists);
    this.form = emptyForm(table.task_types[0]);
  }

  #lists(table, { datasets = [], presets = [], tasks: existing = [] }) {
    this.table = table;
    this.datasets = datasets;
    this.userPresets = presets;
    this.existing = existing;
  }

  /** Fetch everything the form needs; `cloneId` starts from that task's config (?clone=<id>). */
  async load(cloneId) {
    const [table, datasets, presets, existing] = await Promise.all([
      loadTaskTypes(), listDatasets(), tasks.listPresets(), tasks.listTasks(),
    ]);
    this.#lists(table, { datasets, presets, tasks: existing });
    if (cloneId) {
      try {
        return await this.startFromTask(cloneId);
      } catch {
        /* shown in the banner; fall through to an empty form */
      }
    }
    this.form = emptyForm(table.task_types[0]);
  }

  async startFromTask(id) {
    const task = await tasks.getTask(id);
    this.applyConfig(task.config, { name: t('training.form.copyName', { name: task.name }) });
    this.loadedFrom = 'task:' + task.id;
  }

  // --- editing -----------------------------------------------------------------------------------
  clearError(path) {
    if (this.errors[path]) {
      const { [path]: _, ...rest } = this.errors;
      this.errors = rest;
    }
  }

  /** A field was edited by hand: its error goes, and a preset it belongs to becomes "custom". */
  edited(field) {
    this.clearError(`${field.section}.${field.key}`);
    if (field.section === 'training' && this.pKeys.has(field.key) && this.form.vram_preset !== 'custom') this.form.vram_preset = 'custom';
  }

  choosePreset(p) {
    const form = this.form;
    form.vram_preset = p;
    if (p !== 'custom') for (const [k, v] of Object.entries(this.variant.presets[p])) if (k in form.training) form.training[k] = clone(v);
  }

  /** Another task type: a fresh form that keeps what does not depend on the type. */
  changeType(id) {
    const next = this.table.task_types.find((x) => x.id === id);
    const old = this.form;
    const fresh = emptyForm(next, { preset: old.vram_preset === 'custom' ? 'medium' : old.vram_preset });
    fresh.name = old.name;
    fresh.gpus = old.gpus;
    fresh.extra = old.extra;
    for (const k of Object.keys(fresh.models)) if (old.models[k]) fresh.models[k] = old.models[k];
    fresh.samples.prompts = old.samples.prompts.map((p) => ({ prompt: p.prompt, seed: p.seed }));
    fresh.samples.schedule = old.samples.schedule;
    fresh.samples.every_n = old.samples.every_n;
    fresh.samples.at_first = old.samples.at_first;
    fresh.dataset_id = variantOf(next).dataset_types.includes(this.dataset?.type) ? old.dataset_id : '';
    this.form = fresh;
    this.errors = {};
  }

  changeVariant(key) {
    const { ttype, form } = this;
    const before = variantOf(ttype, form.variant);
    form.variant = key;
    const v = variantOf(ttype, key);
    // Sample defaults that differ per variant (FLUX.2 klein distilled: 4 steps, guidance 1) follow the
    // variant unless the user changed them.
    for (const [k, value] of Object.entries(v.sample_defaults || {})) {
      if (same(form.samples[k], before?.sample_defaults?.[k])) form.samples[k] = value;
    }
    // Dataset settings follow the variant the same way, where the user left them at the old variant's value.
    for (const f of ttype.fields) {
      if (f.section !== 'dataset') continue;
      const old = baseValue(f, before, form.vram_preset);
      if (same(form.dataset[f.key], old)) form.dataset[f.key] = clone(baseValue(f, v, form.vram_preset));
    }
    if (form.vram_preset !== 'custom') this.choosePreset(form.vram_preset);
    if (this.dataset && !v.dataset_types.includes(this.dataset.type)) form.dataset_id = '';
    const max = v.max_blocks_to_swap;
    if (form.training.blocks_to_swap > max) form.training.blocks_to_swap = max;
  }

  /** How a field of its group is drawn: 'field', the name of the picker that starts with it ('duration',
   *  'saveEvery'), or null (the second field of a picker, or hidden while the field it goes with is off). */
  drawAs(f) {
    for (const [name, pair] of Object.entries(PICKERS)) {
      const i = pair.indexOf(f.key);
      if (i >= 0 && pair.every((k) => this.byKey[k])) return i === 0 ? name : null;
    }
    const with_ = this.byKey[SHOWN_WHILE[f.key]];
    if (SHOWN_WHILE[f.key] && !(with_ && this.form[with_.section][with_.key])) return null;
    return 'field';
  }

  /** Train for a number of epochs or of steps (one of the pair is set, the other null). */
  setDuration(mode) {
    const t_ = this.form.training;
    if (mode === 'epochs') {
      t_.max_train_epochs = t_.max_train_epochs ?? this.byKey.max_train_epochs?.default ?? 16;
      t_.max_train_steps = null;
    } else {
      t_.max_train_steps = t_.max_train_steps ?? 2000;
      t_.max_train_epochs = null;
    }
  }

  setSave(mode) {
    const t_ = this.form.training;
    if (mode === 'epochs') {
      t_.save_every_n_epochs = t_.save_every_n_epochs ?? 1;
      t_.save_every_n_steps = null;
    } else {
      t_.save_every_n_steps = t_.save_every_n_steps ?? 500;
      t_.save_every_n_epochs = null;
    }
  }

  /** Add or remove a GPU; the last one cannot be removed. */
  toggleGpu(index, on) {
    const set = new Set(this.form.gpus);
    if (on) set.add(index);
    else set.delete(index);
    this.form.gpus = set.size ? [...set].sort((a, b) => a - b) : [index];
  }

  // --- presets and starting from another task ---------------------------------------------------
  /** Replace the form by a stored config; keepPersonal keeps the name and (where it fits) the dataset. */
  applyConfig(cfg, { name, keepPersonal = false } = {}) {
    const next = this.table.task_types.find((x) => x.id === cfg.task_type) || this.table.task_types[0];
    const old = this.form;
    const fresh = formFromConfig(next, cfg);
    if (name != null) fresh.name = name;
    if (keepPersonal && old) {
      fresh.name = old.name;
      fresh.dataset_id = variantOf(next, fresh.variant).dataset_types.includes(this.dataset?.type) ? old.dataset_id : '';
    }
    this.form = fresh;
    this.errors = {};
    this.draftId = null;
  }

  /** The "start from" choice: a user preset ('preset:<name>') or an existing task ('task:<id>'). */
  async loadFrom(value) {
    if (!value) return;
    this.loadedFrom = value;
    if (value.startsWith('preset:')) {
      const p = this.userPresets.find((x) => x.name === value.slice(7));
      if (p) {
        this.applyConfig(p.config, { keepPersonal: true });
        this.presetName = p.name;
      }
    } else if (value.startsWith('task:')) {
      const task = await tasks.getTask(value.slice(5));
      this.applyConfig(task.config, { name: t('training.form.copyName', { name: task.name }) });
    }
  }

  /** Save the form as a user preset under presetName; throws the server's error. */
  async savePreset() {
    const preset = await tasks.savePreset(this.presetName.trim(), this.config(), { quiet: true });
    this.userPresets = [...this.userPresets.filter((p) => p.name !== preset.name), preset]
      .sort((a, b) => a.name.localeCompare(b.name));
    this.loadedFrom = 'preset:' + preset.name;
    return preset;
  }

  async deletePreset(name) {
    await tasks.deletePreset(name);
    this.userPresets = this.userPresets.filter((p) => p.name !== name);
    if (this.loadedFrom === 'preset:' + name) this.loadedFrom = '';
  }

  // --- checks ------------------------------------------------------------------------------------
  /** The model library's verdict on a model field's current path (undefined until asked, null when empty). */
  verdictFor(role) {
    const path = (this.form.models[role] || '').trim();
    return path ? this.verdicts[`${this.form.task_type}|${role}|${path}`] : null;
  }

  /** What the browser can say before asking the server: the error ({message, details.field}) or null. */
  localCheck() {
    const form = this.form;
    if (!form.name.trim()) return { message: t('training.form.needName'), details: { field: 'name' } };
    if (!form.dataset_id) return { message: t('training.form.needDataset'), details: { field: 'dataset_id' } };
    for (const m of this.models) { // a file the model library calls broken: no task is saved (the start would refuse it)
      const bad = this.verdictFor(m.key)?.problems?.find((p) => p.severity === 'error');
      if (bad) {
        return { code: 'model_file_error', message: t('training.models.broken', { reason: problemTitle('models', bad) }),
          details: { field: 'models.' + m.key } };
      }
    }
    return null;
  }

  // Debounced server questions. Each reads the form synchronously (so a page $effect around it re-runs
  // when what it reads changes) and returns the cleanup that cancels a pending question.
  /** POST /api/tasks/vram a moment after each change; a config that is not valid yet keeps the last figure. */
  askVram() {
    if (!this.ttype || !this.form) return;
    const body = { ...this.config(), name: this.form.name.trim() || 'estimate' };
    const n = ++this.#vramAsked;
    const timer = setTimeout(() => {
      tasks.estimateVram(body, { quiet: true })
        .then((res) => { if (n === this.#vramAsked) this.vram = res; })
        .catch(() => {}); // creating the task says what is wrong
    }, DEBOUNCE_MS.vram);
    return () => clearTimeout(timer);
  }

  /** Model and sample-image paths not checked yet: exists / is a file / size. */
  askPaths() {
    const form = this.form;
    if (!form) return;
    const paths = [...Object.values(form.models),
      ...form.samples.prompts.flatMap((p) => [p.image, p.end_image, ...String(p.control_images || '').split('\n')])]
      .map((p) => (p || '').trim()).filter(Boolean);
    const wanted = [...new Set(paths)].filter((p) => !(p in this.pathState));
    if (!wanted.length) return;
    const timer = setTimeout(async () => {
      try {
        const results = await tasks.checkPaths(wanted.slice(0, 50), { quiet: true });
        this.pathState = { ...this.pathState, ...results };
      } catch {
        /* the create step checks again */
      }
    }, DEBOUNCE_MS.paths);
    return () => clearTimeout(timer);
  }

  /** The model library's own check of each model file (Settings runs the same one; a start refuses its errors). */
  askVerdicts() {
    const form = this.form;
    if (!form) return;
    const wanted = this.models.map((m) => [m.key, (form.models[m.key] || '').trim()])
      .filter(([key, path]) => path && !(`${form.task_type}|${key}|${path}` in this.verdicts));
    if (!wanted.length) return;
    const taskType = form.task_type;
    const timer = setTimeout(async () => {
      for (const [role, path] of wanted) {
        try {
          const res = await tasks.checkModel(path, taskType, role, { quiet: true });
          this.verdicts = { ...this.verdicts, [`${taskType}|${role}|${path}`]: res };
        } catch {
          /* the start checks again */
        }
      }
    }, DEBOUNCE_MS.models);
    return () => clearTimeout(timer);
  }

  /** Empty model paths get the model library's files, once per task type and variant. */
  fillFromLibrary() {
    const { ttype, variant } = this;
    if (!ttype || !variant) return;
    const key = `${ttype.id}/${variant.key}`;
    if (key === this.#libraryFor) return;
    this.#libraryFor = key;
    tasks.modelDefaults(ttype.id, variant.key, { quiet: true })
      .then((models) => {
        const form = this.form;
        if (!form || form.task_type !== ttype.id) return;
        for (const [role, path] of Object.entries(models)) if (path && role in form.models && !form.models[role]) form.models[role] = path;
      })
      .catch(() => {}); // no library (yet): the fields stay empty
  }

  // --- preview, create ---------------------------------------------------------------------------
  /** The preview of the form's config; throws the server's error. */
  async preview() {
    this.busy = true;
    try {
      const cfg = this.config();
      if (!cfg.name) cfg.name = t('training.form.untitled');
      return await tasks.previewTask(cfg, { quiet: true });
    } finally {
      this.busy = false;
    }
  }

  /**
   * Save the task and start it. True when it started; false when no trainer is set up (said in the banner,
   * nothing saved). Throws the error to show at its field: the local check's, or the server's.
   */
  async create() {
    const local = this.localCheck();
    if (local) throw local;
    this.busy = true;
    this.errors = {};
    const cfg = this.config();
    try {
      const pv = await tasks.previewTask(cfg, { quiet: true });
      // No trainer: refuse before saving anything (a draft per attempt helps nobody), and say what is missing.
      const missing = pv.trainer_problems?.[0];
      if (missing) {
        pushError({ code: 'trainer_not_ready', message: t('training.form.trainerNotReady', { reason: problemDetail(missing) }),
          details: { setting: missing.setting } });
        return false;
      }
      const task = this.draftId ? await tasks.updateTask(this.draftId, cfg, { quiet: true }) : await tasks.createTask(cfg, { quiet: true });
      this.draftId = task.id;
      await tasks.startTask(task.id, { quiet: true });
      this.draftId = null;
      return true;
    } catch (e) {
      if (this.draftId) e.message = `${e.message} ${t('training.form.savedAsDraft')}`;
      throw e;
    } finally {
      this.busy = false;
    }
  }
}
