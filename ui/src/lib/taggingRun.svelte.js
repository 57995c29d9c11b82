// The auto-tag dialog's state (components/tagging/TaggingDialog.svelte renders it): the run's form, prefilled
// from the saved tagging settings each time it opens (edits apply to this run only, sent as overrides of
// the backend's options), then the run followed live (progress figures, the per-item log) and its summary.
// A run already going on for the dataset (started before a reload, or elsewhere) is shown instead of the form.
import * as client from './api/tagging.js';
import { getDataset } from './api/datasets.js';
import { settings, toDraft, fromDraft, splitWords, joinWords } from './settings.svelte.js';
import { t } from './i18n/index.svelte.js';
import { followJob, FINAL } from './jobs.svelte.js';
import { loadTagging, backendInfo, presetInfo, optionName, settingOf, errorTitle, BACKEND_ORDER } from './tagging.svelte.js';

// The backend settings a run may change, by backend (the rest come from the settings page as saved).
export const RUN_KEYS = {
  openai_api: ['tagging_api_model', 'tagging_api_output', 'tagging_api_prompt', 'tagging_api_max_tokens', 'tagging_api_temperature', 'tagging_api_parallel'],
  wd14: ['tagging_wd14_general_threshold', 'tagging_wd14_character_threshold', 'tagging_wd14_exclude', 'tagging_wd14_underscores_to_spaces'],
  musubi_qwen_vl: ['tagging_qwen_prompt', 'tagging_qwen_max_new_tokens'],
};
export const PROMPT_KEYS = { openai_api: 'tagging_api_prompt', musubi_qwen_vl: 'tagging_qwen_prompt' };
export const MAX_LOG = 400; // items the log keeps (the newest)
const FORM_FIELDS = ['trigger', 'mode', 'blacklist']; // request fields a refusal can name besides the options

export class TaggingRun {
  phase = $state('form'); // form | running | finished
  // the form
  backend = $state('wd14');
  target = $state('all'); // all | selection
  mode = $state('only_empty');
  trigger = $state('');
  prefixTrigger = $state(true);
  strip = $state(true);
  dedupe = $state(true);
  blacklist = $state('');
  opts = $state({}); // setting key -> form value, for RUN_KEYS
  errors = $state({}); // setting key or 'trigger' / 'mode' / 'blacklist' -> message
  formError = $state('');
  starting = $state(false);
  dataset = $state(null);
  selection = $state([]); // item ids the page has selected
  // the run
  job = $state(null);
  figures = $state(null); // the last tagging_progress {done, total, rate, eta_s}
  log = $state([]); // tagging_item events, newest last
  attached = $state(false); // showing a run that was already going on
  // The dataset's trigger word arrives after the dialog is shown: once the user has typed into the field,
  // that late answer must not replace what they typed.
  triggerEdited = false;
  onItem = null; // called after a log line is added (the dialog keeps the log scrolled to the bottom)
  #stopFollow = null;
  #reported = false;

  constructor(datasetId, onfinished = null) {
    this.datasetId = datasetId;
    this.onfinished = onfinished;
  }

  info = $derived(backendInfo(this.backend));
  promptKey = $derived(PROMPT_KEYS[this.backend] || null);
  hasSelection = $derived(this.selection.length > 0);
  targetCount = $derived(this.target === 'selection' ? this.selection.length : this.dataset?.item_count ?? null);
  /** What the run writes: the API's output setting, else what the backend produces. */
  produces = $derived(this.backend === 'openai_api' ? this.opts.tagging_api_output || 'text'
    : this.info?.output_kind || (this.backend === 'wd14' ? 'tags' : 'text'));
  /** Items without a caption, for "only empty" on the whole dataset. */
  emptyCount = $derived(this.dataset ? Math.max(0, this.dataset.item_count - this.dataset.captioned_count) : null);
  canStart = $derived(!this.starting && !(this.target === 'all' && this.dataset && !this.dataset.item_count));

  // --- opening -------------------------------------------------------------------------------------
  /** The form as the saved settings have it (and the page's selection as the default target). */
  prefill() {
    const v = settings.values;
    this.backend = BACKEND_ORDER.includes(v.tagging_backend) ? v.tagging_backend : 'wd14';
    this.mode = v.tagging_mode || 'only_empty';
    this.blacklist = joinWords(v.tagging_blacklist);
    for (const keys of Object.values(RUN_KEYS)) for (const key of keys) this.opts[key] = toDraft(key, v[key]);
    this.target = this.selection.length ? 'selection' : 'all';
    this.errors = {};
    this.formError = '';
  }

  /** The dialog opened: load the dataset (its trigger word fills the field) and pick up a run going on. */
  async open(selection = []) {
    this.selection = [...selection];
    loadTagging().catch(() => {});
    this.triggerEdited = false;
    getDataset(this.datasetId, { quiet: true }).then((r) => this.datasetLoaded(r.dataset)).catch(() => {});
    if (this.phase === 'running') return;
    if (this.phase === 'form') this.prefill();
    try {
      const active = await client.activeAutotag(this.datasetId, { quiet: true });
      if (active && this.job?.id !== active.id) {
        this.attached = true;
        this.watch(active);
      }
    } catch {
      /* the form stays usable; starting would report a busy dataset */
    }
  }

  datasetLoaded(dataset) {
    this.dataset = dataset;
    if (this.phase === 'form' && !this.triggerEdited) this.trigger = dataset.trigger_word || '';
  }

  editTrigger(value) {
    this.trigger = value;
    this.triggerEdited = true;
  }

  // --- the request ---------------------------------------------------------------------------------
  /** Options that differ from the saved settings, by option name: this run's overrides. */
  overrides() {
    const out = {};
    for (const key of RUN_KEYS[this.backend]) {
      const value = fromDraft(key, this.opts[key]);
      if (JSON.stringify(value) === JSON.stringify(settings.values[key])) continue;
      const name = optionName(this.backend, key);
      if (name) out[name] = value;
    }
    return out;
  }

  /** The body of POST /autotag for the form, or null (the reason under its field) when it cannot be sent. */
  body() {
    this.errors = {};
    this.formError = '';
    const word = this.trigger.trim();
    if (word.includes(',')) {
      this.errors = { trigger: t('tag.dlg.trigger.comma') };
      return null;
    }
    return {
      backend: this.backend,
      options: this.overrides(),
      target: this.target === 'selection' && this.hasSelection ? { ids: [...this.selection] } : { all: true },
      mode: this.mode,
      trigger: word,
      prefix_trigger: !!word && this.prefixTrigger,
      strip: this.strip,
      dedupe: this.dedupe,
      blacklist: splitWords(this.blacklist),
    };
  }

  async start() {
    const body = this.body();
    if (!body) return;
    this.starting = true;
    try {
      const job = await client.autotag(this.datasetId, body, { quiet: true });
      this.attached = false;
      this.watch(job);
    } catch (e) {
      if (e.code === 'job_busy' && e.details?.job_id) {
        this.attached = true;
        this.watch(await client.getJob(e.details.job_id, { quiet: true }));
      } else {
        this.refused(e);
      }
    } finally {
      this.starting = false;
    }
  }

  /** A refused start: under the field it names (an option by its setting key), else above the buttons. */
  refused(e) {
    const field = e.details?.field;
    const key = field && (settingOf(this.backend, field) || field);
    if (key && (key in this.opts || FORM_FIELDS.includes(key))) this.errors = { [key]: e.message };
    else this.formError = (errorTitle(e.code) ? errorTitle(e.code) + t('tag.colon') : '') + e.message;
  }

  // --- the run -------------------------------------------------------------------------------------
  watch(job) {
    this.#stopFollow?.();
    this.job = job;
    this.figures = null;
    this.log = [];
    this.#reported = false;
    this.phase = FINAL.includes(job.status) ? 'finished' : 'running';
    this.#stopFollow = followJob(job.id, (j) => this.onJob(j), (ev) => this.onEvent(ev));
  }

  onJob(job) {
    this.job = job;
    if (!FINAL.includes(job.status)) return;
    this.phase = 'finished';
    if (!this.#reported) {
      this.#reported = true;
      this.onfinished?.(job.result || null);
    }
  }

  onEvent(ev) {
    if (ev.type === 'tagging_progress') this.figures = ev.data;
    else if (ev.type === 'tagging_item') {
      const next = [...this.log, { ...ev.data, at: Date.now() }];
      this.log = next.length > MAX_LOG ? next.slice(next.length - MAX_LOG) : next;
      this.onItem?.();
    }
  }

  /** Back to the form for another run. */
  again() {
    this.#stopFollow?.();
    this.job = null;
    this.log = [];
    this.figures = null;
    this.attached = false;
    this.phase = 'form';
    this.prefill();
  }

  /** The job as the progress bar shows it: JobProgress computes its rate from started_at, and the tagging
   *  figures leave model loading out, so the bar's rate/ETA agree with the server's once items flow. */
  shown = $derived.by(() => {
    const job = this.job;
    if (!job) return null;
    const running = !FINAL.includes(job.status);
    const f = this.figures;
    let startedAt = job.started_at;
    if (running && f?.rate > 0 && f.done) startedAt = Date.now() / 1000 - f.done / f.rate;
    else if (!running && job.result?.rate > 0 && job.finished_at && job.done) startedAt = job.finished_at - job.done / job.result.rate;
    // the phase before the first item (preparing, downloading, loading); JobProgress translates it
    const message = running && !f?.done ? job.message : '';
    return { ...job, started_at: startedAt, message, error: null };
  });

  result = $derived(this.job?.result && typeof this.job.result === 'object' ? this.job.result : null);
  unchanged = $derived(this.result ? Math.max(0, this.result.processed - this.result.changed - this.result.failed) : 0);
  jobBackend = $derived(this.job?.params?.backend || this.result?.backend || this.backend);
  logCounts = $derived({ ok: this.log.filter((l) => l.ok).length, bad: this.log.filter((l) => !l.ok).length });

  /** Where the run's model comes from, as the settings page has it (a line under the backend choice). */
  modelSummary() {
    const v = settings.values;
    if (this.backend === 'openai_api') {
      const preset = presetInfo(v.tagging_api_preset);
      return `${preset ? t('tag.preset.' + preset.name) : t('tag.preset.custom')} · ${v.tagging_api_base_url}`;
    }
    if (this.backend === 'wd14') return v.tagging_wd14_model_dir || v.tagging_wd14_repo;
    return v.tagging_qwen_model_path || t('tag.qwen.noModel');
  }

  /** Put {trigger} in this run's prompt where the caret is (at the end without one). */
  insertTrigger(at = null, end = at) {
    const key = this.promptKey;
    if (!key) return;
    const value = this.opts[key] || '';
    const from = at ?? value.length;
    this.opts[key] = value.slice(0, from) + '{trigger}' + value.slice(end ?? from);
  }

  dispose() {
    this.#stopFollow?.();
  }
}
