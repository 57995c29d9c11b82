// The settings page's tagging card (lib/taggingSettings.svelte.js) and the form state it shares with every
// SettingField (lib/settingsForm.svelte.js), against the real app: the schema, the backends and presets are
// the server's, saves go to it and its validation answers. What needs the websocket (a test or download
// followed live) is the browser tests'.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { startServer, useServer, call } from './liveServer.js';
import { resetTagging } from './tagging.js';
import { settings } from '../src/lib/settings.svelte.js';
import { tagging } from '../src/lib/tagging.svelte.js';
import { settingRows, isMasked } from '../src/lib/settingsForm.svelte.js';
import { TaggingSettingsCard, downloadStatus, percent } from '../src/lib/taggingSettings.svelte.js';
import { setLocale } from '../src/lib/i18n/index.svelte.js';

let server;
let restore;
beforeAll(async () => {
  server = await startServer();
  restore = useServer(server);
});
afterAll(async () => {
  restore?.();
  await server?.stop();
});
beforeEach(async () => {
  await resetTagging(server);
  setLocale('en'); // after the load, which applies the saved language
});

const saved = async () => (await call(server, 'GET', '/api/settings')).settings;
const API_KEY = 'sk-test-abcdef123456wxyz';

describe('fields', () => {
  test('a new card shows the saved values as its fields hold them, a secret never', async () => {
    await call(server, 'PATCH', '/api/settings', { tagging_wd14_exclude: ['simple background', 'text'], tagging_api_key: API_KEY });
    settings.values = await saved();
    const card = new TaggingSettingsCard();
    expect(card.draft.tagging_wd14_exclude).toBe('simple background, text');
    expect(card.draft.tagging_wd14_underscores_to_spaces).toBe(true);
    expect(card.draft.tagging_wd14_general_threshold).toBe('0.35');
    expect(card.draft.tagging_api_key).toBe('');
    expect(card.backend).toBe('wd14');
  });

  test('a changed field is saved and then shows what the server stored; an unchanged one sends nothing', async () => {
    const card = new TaggingSettingsCard();
    card.draft.tagging_api_base_url = ' https://example.com/v1/ ';
    expect(await card.commit('tagging_api_base_url')).toBe(true);
    expect((await saved()).tagging_api_base_url).toBe('https://example.com/v1');
    expect(card.draft.tagging_api_base_url).toBe('https://example.com/v1');
    expect(card.saved.tagging_api_base_url).toBe(true);
    expect(card.commit('tagging_api_base_url')).toBeUndefined(); // nothing to send

    card.draft.tagging_wd14_exclude = 'a, b ,，c';
    expect(await card.commit('tagging_wd14_exclude')).toBe(true);
    expect((await saved()).tagging_wd14_exclude).toEqual(['a', 'b', 'c']);
    card.dispose();
  });

  test("a refused value stays as typed with the server's message under its field, and is sent again", async () => {
    const card = new TaggingSettingsCard();
    card.draft.tagging_api_base_url = 'ftp://nowhere';
    expect(await card.commit('tagging_api_base_url')).toBe(false);
    expect(card.errors.tagging_api_base_url).toMatch(/http/);
    expect(card.draft.tagging_api_base_url).toBe('ftp://nowhere');
    expect((await saved()).tagging_api_base_url).toBe('https://api.openai.com/v1');
    expect(await card.commit('tagging_api_base_url')).toBe(false); // still wrong: asked again, not skipped
    card.draft.tagging_api_base_url = 'https://api.openai.com/v1'; // back to the saved value: the error goes
    expect(await card.commit('tagging_api_base_url')).toBe(true);
    expect(card.errors.tagging_api_base_url).toBe('');

    card.draft.tagging_api_max_tokens = '0';
    expect(await card.commit('tagging_api_max_tokens')).toBe(false);
    expect(card.errors.tagging_api_max_tokens).toMatch(/from 1 to 32768/);
    card.draft.tagging_api_max_tokens = '512';
    expect(await card.commit('tagging_api_max_tokens')).toBe(true);
    expect(card.errors.tagging_api_max_tokens).toBe('');
  });

  test('several keys saved at once: the refusal goes under the key the server names', async () => {
    const card = new TaggingSettingsCard();
    expect(await card.save({ tagging_api_preset: 'custom', tagging_api_base_url: 'nowhere' })).toBe(false);
    expect(card.errors.tagging_api_base_url).toMatch(/http/);
    expect(card.errors.tagging_api_preset).toBe('');
  });

  test('an API key is sent only when one is typed, then shown only masked; Remove deletes it', async () => {
    const card = new TaggingSettingsCard();
    expect(card.commit('tagging_api_key')).toBeUndefined(); // empty: keep the saved one
    card.draft.tagging_api_key = `  ${API_KEY} `;
    expect(await card.commit('tagging_api_key')).toBe(true);
    const masked = (await saved()).tagging_api_key;
    expect(masked).toBe('••••••wxyz');
    expect(settings.values.tagging_api_key).toBe(masked);
    expect(isMasked(masked)).toBe(true);
    expect(card.draft.tagging_api_key).toBe('');
    expect(JSON.stringify(settings.values)).not.toContain(API_KEY);

    expect(await card.clear('tagging_api_key')).toBe(true);
    expect((await saved()).tagging_api_key).toBe('');
  });

  test("choosing a preset saves its address and, unless the model typed is one of its own, its first model", async () => {
    const card = new TaggingSettingsCard();
    const p = tagging.presets.find((x) => x.models.length > 1);
    expect(await card.choosePreset(p.name)).toBe(true);
    let s = await saved();
    expect([s.tagging_api_preset, s.tagging_api_base_url, s.tagging_api_model]).toEqual([p.name, p.base_url, p.models[0]]);
    expect(card.draft.tagging_api_model).toBe(p.models[0]);

    card.draft.tagging_api_model = p.models[1];
    expect(card.presetChanges(p.name)).toEqual({ tagging_api_preset: p.name, tagging_api_base_url: p.base_url });
    expect(card.presetChanges('custom')).toEqual({ tagging_api_preset: 'custom' }); // any address: nothing to fill
    expect(card.presetChoices).toEqual([...tagging.presets.map((x) => x.name), 'custom']);
  });
});

describe('test', () => {
  test('the test takes the form as typed, saved or not, by option name; the key only when one is typed', () => {
    const card = new TaggingSettingsCard();
    card.draft.tagging_api_temperature = '1,5';
    card.draft.tagging_api_model = ' my-model ';
    const opts = card.formOptions('openai_api');
    expect(opts.temperature).toBe(1.5);
    expect(opts.model).toBe('my-model');
    expect(opts.base_url).toBe('https://api.openai.com/v1');
    expect(opts).not.toHaveProperty('api_key');
    expect(Object.values(opts)).not.toContain('openai_api');
    card.draft.tagging_api_key = ` ${API_KEY} `;
    expect(card.formOptions('openai_api').api_key).toBe(API_KEY);

    card.draft.tagging_wd14_general_threshold = '0.5';
    const wd14 = card.formOptions('wd14');
    expect(wd14.general_threshold).toBe(0.5);
    expect(wd14).not.toHaveProperty('temperature'); // another backend's options stay out
  });

  test("a test the server refuses shows why, under the field it names", async () => {
    const card = new TaggingSettingsCard();
    card.chooseBackend('openai_api');
    card.draft.tagging_api_temperature = '9';
    await card.runTest();
    expect(card.test).toBe(null);
    expect(card.testError.code).toBe('validation_error');
    expect(card.errors.tagging_api_temperature).toMatch(/temperature/);
    expect(card.testError.message).toBe(card.errors.tagging_api_temperature);
    card.chooseBackend('wd14'); // another backend: the old outcome goes
    expect(card.testError).toBe(null);
  });
});

describe('what the card shows', () => {
  test("each backend's group in the page's order, its limits together; the run group without the backend", () => {
    const card = new TaggingSettingsCard();
    const rows = card.rows('tagging.openai_api');
    expect(rows.map((r) => r.key)).toEqual([
      'tagging_api_preset', 'tagging_api_base_url', 'tagging_api_key', 'tagging_api_model', 'tagging_api_output',
      'tagging_api_prompt', 'block:tagging_api_max_tokens',
    ]);
    expect(rows.at(-1).specs.map((s) => s.key)).toEqual([
      'tagging_api_max_tokens', 'tagging_api_temperature', 'tagging_api_parallel', 'tagging_api_timeout',
      'tagging_api_max_retries', 'tagging_api_image_max_side',
    ]);
    expect(rows.at(-1).help).toBe('tag.api.limits.help');
    expect(card.rows('tagging').map((r) => r.key)).toEqual(['tagging_mode', 'tagging_blacklist', 'tagging_video_frames']);
    expect(card.rows('tagging.wd14').find((r) => r.key === 'tagging_wd14_general_threshold').spec.slider).toBe(true);
  });

  test('numbers of one block are together only where they follow each other', () => {
    const rows = settingRows([{ key: 'a', block: 'x' }, { key: 'b', block: 'x' }, { key: 'c' }, { key: 'd', block: 'x' }]);
    expect(rows.map((r) => [r.key, (r.specs || [r.spec]).map((s) => s.key)])).toEqual([
      ['block:a', ['a', 'b']], ['c', ['c']], ['block:d', ['d']],
    ]);
  });

  test('help that depends on the preset and the WD14 runtime', async () => {
    const card = new TaggingSettingsCard();
    const local = tagging.presets.find((p) => !p.needs_key);
    const paid = tagging.presets.find((p) => p.needs_key && !p.notes);
    card.draft.tagging_api_preset = local.name;
    expect(card.helpOf('tagging_api_key')).toBe('Local servers usually need no key; leave it empty.');
    card.draft.tagging_api_preset = paid.name;
    expect(card.helpOf('tagging_api_key')).toMatch(/^Stored on this computer only/);
    expect(card.helpOf('tagging_api_preset')).toBe('Choosing a service fills in its address and a model.');
    expect(card.helpOf('tagging_api_base_url')).toBe(null); // the schema's own

    tagging.wd14.providers = ['CUDAExecutionProvider', 'CPUExecutionProvider'];
    expect(card.helpOf('tagging_wd14_batch_size')).toBe('Runs on: CUDA → CPU');
    tagging.wd14.providers = [];
    expect(card.helpOf('tagging_wd14_batch_size')).toMatch(/onnxruntime is not installed/);

    tagging.wd14.downloaded = [{ repo: tagging.wd14.known_repos[1], path: '/x' }];
    card.draft.tagging_wd14_repo = ` ${tagging.wd14.known_repos[1]} `;
    expect(card.repoDownloaded).toBe(true);
    const offered = card.suggestionsOf('tagging_wd14_repo');
    expect(offered.map((s) => s.value)).toEqual(tagging.wd14.known_repos);
    expect(offered.filter((s) => s.label).map((s) => s.value)).toEqual([tagging.wd14.known_repos[1]]);
  });

  test("a download's line and bar", () => {
    const job = (status, extra = {}) => ({ status, done: 30, total: 120, ...extra });
    expect(downloadStatus(job('done'))).toBe('Download complete');
    expect(percent(job('done'))).toBe(100);
    expect(downloadStatus(job('failed'))).toBe('Download failed');
    expect(downloadStatus(job('cancelled'))).toBe('Cancelled');
    expect(downloadStatus(job('running'))).toBe('Preparing…');
    expect(percent(job('running'))).toBe(25);
    expect(percent(job('running', { total: 0 }))).toBe(0);
  });

  test('a prompt gets {trigger} where the caret is, and is saved', async () => {
    const card = new TaggingSettingsCard();
    card.draft.tagging_qwen_prompt = 'Describe . Short.';
    expect(await card.insertTrigger('tagging_qwen_prompt', 9)).toBe(true);
    expect((await saved()).tagging_qwen_prompt).toBe('Describe {trigger}. Short.');
    await card.insertTrigger('tagging_qwen_prompt', 0, 8); // a selection is replaced
    expect(card.draft.tagging_qwen_prompt).toBe('{trigger} {trigger}. Short.');
  });
});
