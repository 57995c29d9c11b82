// The auto-tag dialog's state (lib/taggingRun.svelte.js) against the real app: the form prefilled from the
// saved settings, the request it makes (overrides by option name, the target, the trigger) and how a refusal
// is shown; the live run from the job's record and events as followJob hands them over. Following a job
// over the websocket and the written captions are the browser tests'.
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { startServer, useServer, call } from './liveServer.js';
import { resetTagging } from './tagging.js';
import { settings, loadSettings } from '../src/lib/settings.svelte.js';
import { TaggingRun, MAX_LOG } from '../src/lib/taggingRun.svelte.js';
import { setLocale } from '../src/lib/i18n/index.svelte.js';

let server;
let restore;
let datasetId;
beforeAll(async () => {
  server = await startServer();
  restore = useServer(server);
  datasetId = (await call(server, 'POST', '/api/datasets', { name: 'Run form' })).dataset.id;
});
afterAll(async () => {
  restore?.();
  await server?.stop();
});
beforeEach(async () => {
  await resetTagging(server);
  await call(server, 'PATCH', `/api/datasets/${datasetId}`, { trigger_word: '' });
  setLocale('en');
});

async function savedAs(changes) {
  await call(server, 'PATCH', '/api/settings', changes);
  await loadSettings();
  setLocale('en');
}

const activeJobs = async () =>
  (await call(server, 'GET', `/api/jobs?owner=${encodeURIComponent('dataset:' + datasetId)}&active=1`)).jobs;

describe('the form', () => {
  test('opens with the saved settings; the selection is the target when there is one', async () => {
    await savedAs({ tagging_backend: 'openai_api', tagging_mode: 'append', tagging_blacklist: ['watermark', 'text'],
      tagging_api_temperature: 0.5 });
    const run = new TaggingRun(datasetId);
    run.selection = [4, 7];
    run.prefill();
    expect([run.backend, run.mode, run.blacklist, run.target]).toEqual(['openai_api', 'append', 'watermark, text', 'selection']);
    expect(run.opts.tagging_api_temperature).toBe('0.5');
    expect(run.opts.tagging_wd14_underscores_to_spaces).toBe(true);
    expect(run.promptKey).toBe('tagging_api_prompt');
    run.selection = [];
    run.prefill();
    expect(run.target).toBe('all');
  });

  test("the dataset's trigger word fills the field, unless one was typed before it came", async () => {
    await call(server, 'PATCH', `/api/datasets/${datasetId}`, { trigger_word: 'dsword' });
    const run = new TaggingRun(datasetId);
    await run.open([]);
    await vi.waitFor(() => expect(run.dataset?.id).toBe(datasetId), { timeout: 20_000 });
    expect(run.trigger).toBe('dsword');
    expect(run.targetCount).toBe(0);
    expect(run.canStart).toBe(false); // nothing to tag

    const typed = new TaggingRun(datasetId);
    const opened = typed.open([]);
    typed.editTrigger('ohwx');
    await opened;
    await vi.waitFor(() => expect(typed.dataset?.id).toBe(datasetId), { timeout: 20_000 });
    expect(typed.trigger).toBe('ohwx');
  });

  test('only what differs from the saved settings is sent, by option name, for the chosen backend', () => {
    const run = new TaggingRun(datasetId);
    run.prefill();
    expect(run.overrides()).toEqual({});
    run.opts.tagging_wd14_general_threshold = '0,5';
    run.opts.tagging_wd14_exclude = 'text, logo';
    run.opts.tagging_api_temperature = '1';
    expect(run.overrides()).toEqual({ general_threshold: 0.5, exclude: ['text', 'logo'] });
    run.backend = 'openai_api';
    expect(run.overrides()).toEqual({ temperature: 1 });
  });

  test('the body: the target, the trigger and whether it leads, the blacklist as words', () => {
    const run = new TaggingRun(datasetId);
    run.selection = [3, 5];
    run.prefill();
    run.trigger = '  ohwx ';
    run.blacklist = 'watermark，signature\ntext';
    expect(run.body()).toMatchObject({ backend: 'wd14', target: { ids: [3, 5] }, mode: 'only_empty', trigger: 'ohwx',
      prefix_trigger: true, strip: true, dedupe: true, blacklist: ['watermark', 'signature', 'text'], options: {} });
    run.target = 'all';
    run.prefixTrigger = false;
    expect(run.body()).toMatchObject({ target: { all: true }, prefix_trigger: false });
    run.trigger = '';
    run.prefixTrigger = true;
    expect(run.body().prefix_trigger).toBe(false); // nothing to put first
  });
});

describe('refusals', () => {
  test('a trigger word with a comma is refused before anything is sent', async () => {
    const run = new TaggingRun(datasetId);
    run.prefill();
    run.trigger = 'a, b';
    await run.start();
    expect(run.errors).toEqual({ trigger: 'The trigger word cannot contain commas.' });
    expect(await activeJobs()).toEqual([]);
    expect(run.phase).toBe('form');
  });

  test("an option the server refuses is shown under that option's field", async () => {
    const run = new TaggingRun(datasetId);
    run.prefill();
    run.backend = 'openai_api';
    run.opts.tagging_api_max_tokens = '0';
    await run.start();
    expect(Object.keys(run.errors)).toEqual(['tagging_api_max_tokens']);
    expect(run.errors.tagging_api_max_tokens).toMatch(/max_tokens/);
    expect(run.formError).toBe('');
    expect(run.starting).toBe(false);
    expect(run.phase).toBe('form');
  });

  test('a refusal about no field shows above the buttons, with its title where it has one', async () => {
    const run = new TaggingRun('ds_missing');
    run.prefill();
    await run.start();
    expect(run.errors).toEqual({});
    expect(run.formError).toMatch(/ds_missing|not found/i);
    run.refused({ code: 'unauthorized', message: 'Incorrect API key provided', details: {} });
    expect(run.formError).toBe('The API key was rejected: Incorrect API key provided');
  });
});

describe('the run', () => {
  const job = (status, extra = {}) => ({ id: 'j1', status, done: 0, total: 3, started_at: 1000, params: { backend: 'wd14' }, ...extra });

  test('items are logged as they come, the newest kept; the end is reported once', () => {
    const finished = [];
    const run = new TaggingRun(datasetId, (r) => finished.push(r));
    run.job = job('running');
    run.phase = 'running';
    for (let i = 0; i < MAX_LOG + 5; i++) {
      run.onEvent({ type: 'tagging_item', data: i % 2 ? { name: `f${i}`, ok: true, changed: true, caption: 'c' } : { name: `f${i}`, ok: false, code: 'x', message: 'm' } });
    }
    expect(run.log.length).toBe(MAX_LOG);
    expect(run.log[0].name).toBe('f5');
    expect(run.logCounts).toEqual({ ok: MAX_LOG / 2, bad: MAX_LOG / 2 });
    run.onEvent({ type: 'tagging_progress', data: { done: 2, total: 3, rate: 2, eta_s: 1 } });
    expect(run.figures.rate).toBe(2);

    const result = { processed: 3, changed: 1, failed: 1, skipped: 0, backend: 'wd14' };
    run.onJob(job('done', { result }));
    run.onJob(job('done', { result })); // the replayed final state
    expect(run.phase).toBe('finished');
    expect(finished).toEqual([result]);
    expect(run.unchanged).toBe(1);
    expect(run.jobBackend).toBe('wd14');
  });

  test("the bar's rate counts from the first item, not from the model's loading", () => {
    const run = new TaggingRun(datasetId);
    run.job = job('running', { message: 'Loading the model' });
    expect(run.shown.started_at).toBe(1000);
    expect(run.shown.message).toBe('Loading the model'); // the phase before the first item
    run.figures = { done: 10, total: 20, rate: 2 };
    const now = Date.now() / 1000;
    expect(run.shown.started_at).toBeGreaterThan(now - 5.5);
    expect(run.shown.started_at).toBeLessThan(now - 4.5);
    expect(run.shown.message).toBe('');
    run.job = job('done', { done: 20, finished_at: 2000, result: { rate: 4, processed: 20, changed: 20, failed: 0 } });
    expect(run.shown.started_at).toBe(1995);
    expect(run.shown.error).toBe(null); // a failed run's reason is the summary's
  });

  test('again: back to the form as saved', async () => {
    await savedAs({ tagging_mode: 'overwrite' });
    const run = new TaggingRun(datasetId);
    run.job = job('done', { result: {} });
    run.phase = 'finished';
    run.mode = 'append';
    run.again();
    expect([run.phase, run.job, run.mode, run.log]).toEqual(['form', null, 'overwrite', []]);
  });
});

test('where the model comes from, as saved', async () => {
  await savedAs({ tagging_wd14_repo: 'owner/tagger', tagging_api_preset: 'custom', tagging_api_base_url: 'http://127.0.0.1:9/v1' });
  const run = new TaggingRun(datasetId);
  run.backend = 'wd14';
  expect(run.modelSummary()).toBe('owner/tagger');
  await savedAs({ tagging_wd14_model_dir: '/models/wd14' });
  expect(run.modelSummary()).toBe('/models/wd14');
  run.backend = 'openai_api';
  expect(run.modelSummary()).toBe(`Other OpenAI-compatible server · ${settings.values.tagging_api_base_url}`);
  run.backend = 'musubi_qwen_vl';
  expect(run.modelSummary()).toBe('No Qwen2.5-VL model file chosen yet');
});
