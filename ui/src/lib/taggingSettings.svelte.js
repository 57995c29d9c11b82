// The settings page's auto-tagging card (components/settings/TaggingSettings.svelte renders it): the fields of
// the schema's tagging groups in one shared form, so the Test button captions a sample with the values as typed
// (saved or not); choosing an API preset writes its address and a model; WD14 model downloads; the test run.
import * as client from './api/tagging.js';
import { settings } from './settings.svelte.js';
import { SettingsForm, settingRows } from './settingsForm.svelte.js';
import { t } from './i18n/index.svelte.js';
import { followJob, FINAL, jobMessage } from './jobs.svelte.js';
import { tagging, loadTagging, presetInfo, optionName, settingOf, CUSTOM_PRESET } from './tagging.svelte.js';

const isTagging = (s) => s.group === 'tagging' || s.group?.startsWith('tagging.');

/** Provider names as people say them ("CUDA", not "CUDAExecutionProvider"). */
export const providerNames = (list) => (list || []).map((p) => p.replace('ExecutionProvider', ''));

export class TaggingSettingsCard extends SettingsForm {
  download = $state(null); // the WD14 model download job
  test = $state(null); // the test job
  testError = $state(null); // {code, message} when the test request itself was refused
  #stopDownload = null;
  #stopTest = null;

  constructor() {
    super(settings.schema.filter(isTagging).map((s) => s.key));
  }

  backend = $derived(this.draft.tagging_backend || 'wd14');
  preset = $derived(presetInfo(this.draft.tagging_api_preset));
  downloaded = $derived(new Set((tagging.wd14.downloaded || []).map((m) => m.repo)));
  repoDownloaded = $derived(this.downloaded.has((this.draft.tagging_wd14_repo || '').trim()));
  downloading = $derived(!!this.download && !FINAL.includes(this.download.status));
  testRunning = $derived(!!this.test && !FINAL.includes(this.test.status));
  testResult = $derived(this.test?.status === 'done' ? this.test.result : null);

  /** Load what the server offers (presets, WD14 models); the form itself reads the settings already loaded. */
  start() {
    loadTagging().catch(() => {});
  }

  /** The rows of a settings group: the backend's own, or "tagging" (every run; the backend is the picker above). */
  rows(group) {
    return settingRows(settings.schema.filter((s) => s.group === group && s.key !== 'tagging_backend'));
  }

  chooseBackend(name) {
    this.draft.tagging_backend = name;
    this.commit('tagging_backend');
    this.test = null;
    this.testError = null;
  }

  /** What choosing a preset saves: its name, address and (unless the model typed is one of its own) its first model. */
  presetChanges(name) {
    const p = presetInfo(name);
    const changes = { tagging_api_preset: name };
    if (p) {
      changes.tagging_api_base_url = p.base_url;
      if (!p.models.includes(this.draft.tagging_api_model)) changes.tagging_api_model = p.models[0];
    }
    return changes;
  }

  choosePreset(name) {
    const changes = this.presetChanges(name);
    this.draft.tagging_api_preset = name;
    return this.save(changes);
  }

  /** The preset choices: the server's, then "custom" (any OpenAI-compatible address). */
  presetChoices = $derived([...tagging.presets.map((p) => p.name), CUSTOM_PRESET]);

  /** A field's help where it depends on the state (the preset, the WD14 runtime); null: the schema's. */
  helpOf(key) {
    const p = this.preset;
    if (key === 'tagging_api_preset') return p?.notes ? t('tag.preset.note.' + p.name) : t('tag.api.preset.help');
    if (key === 'tagging_api_key') return p && !p.needs_key ? t('tag.api.key.notNeeded') : t('tag.api.key.help');
    if (key === 'tagging_wd14_batch_size') {
      const list = providerNames(tagging.wd14.providers);
      return list.length ? t('tag.wd14.providers', { list: list.join(' → ') }) : t('tag.wd14.noOrt');
    }
    return null;
  }

  /** A text field's suggestions ({value, label}): the preset's models, the known WD14 models. */
  suggestionsOf(key) {
    if (key === 'tagging_api_model') return (this.preset?.models || []).map((value) => ({ value, label: '' }));
    if (key === 'tagging_wd14_repo') {
      return tagging.wd14.known_repos.map((value) => ({ value, label: this.downloaded.has(value) ? t('tag.wd14.downloaded') : '' }));
    }
    return null;
  }

  /** Put {trigger} where the caret is (at the end without one) and save the prompt. */
  insertTrigger(key, at = null, end = at) {
    const value = this.draft[key] || '';
    const from = at ?? value.length;
    this.draft[key] = value.slice(0, from) + '{trigger}' + value.slice(end ?? from);
    return this.commit(key);
  }

  setPrompt(key, text) {
    this.draft[key] = text;
    return this.commit(key);
  }

  // --- test --------------------------------------------------------------------------------------
  /** A backend's options as the form holds them (the /test overrides): unsaved edits are what gets tested. */
  formOptions(name) {
    const out = {};
    for (const key of this.keys) {
      const opt = optionName(name, key);
      if (!opt || key === 'tagging_backend') continue;
      const value = this.value(key);
      if (key === 'tagging_api_key' && !value) continue; // none typed: the saved key
      out[opt] = value;
    }
    return out;
  }

  async runTest() {
    this.#stopTest?.();
    this.testError = null;
    this.test = null;
    const name = this.backend;
    try {
      const job = await client.testBackend(name, this.formOptions(name), { quiet: true });
      this.test = job;
      this.#stopTest = followJob(job.id, (j) => (this.test = j));
    } catch (e) {
      this.testRefused(name, e);
    }
  }

  /** A refused test: the message under the field it names (by option name) and in the result box. */
  testRefused(name, e) {
    const key = settingOf(name, e.details?.field);
    if (key) this.errors[key] = e.message;
    this.testError = { code: e.code, message: e.message };
  }

  // --- WD14 model download -------------------------------------------------------------------------
  async startDownload() {
    this.errors.tagging_wd14_repo = '';
    if ((await this.commit('tagging_wd14_repo')) === false) return;
    try {
      this.watchDownload(await client.downloadModel(this.value('tagging_wd14_repo'), { quiet: true }));
    } catch (e) {
      if (e.code === 'job_busy' && e.details?.job_id) this.watchDownload(await client.getJob(e.details.job_id, { quiet: true }));
      else this.errors.tagging_wd14_repo = e.message;
    }
  }

  watchDownload(job) {
    this.#stopDownload?.();
    this.download = job;
    this.#stopDownload = followJob(job.id, (j) => {
      this.download = j;
      if (j.status === 'done') loadTagging(true).catch(() => {});
    });
  }

  dispose() {
    super.dispose();
    this.#stopTest?.();
    this.#stopDownload?.();
  }
}

/** The line above a download's bar: done, failed, stopped, or what it is doing now. */
export function downloadStatus(job) {
  if (job.status === 'done') return t('tag.wd14.dlDone');
  if (job.status === 'failed') return t('tag.err.download_failed');
  if (job.status === 'cancelled' || job.status === 'interrupted') return t('jobs.status.' + job.status);
  return jobMessage(job) || t('tag.phase.preparing');
}

/** A job's share done, 0..100 (a finished download is full). */
export const percent = (job) => (job?.status === 'done' ? 100 : job?.total ? Math.min(100, (100 * job.done) / job.total) : 0);
