// TrainerEnv (lib/trainerEnv.svelte.js), the trainer environment section's state: why a setup action cannot
// run (one line per reason), what setup would install, that only the newest detection shows, and set up
// asking before it replaces a folder in the way. The server is answered by hand (handFetch.js).
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { TrainerEnv } from '../src/lib/trainerEnv.svelte.js';
import { confirmState, answer } from '../src/lib/confirm.svelte.js';
import { installFetch, removeFetch, pending, request, flush } from './handFetch.js';

beforeEach(installFetch);
afterEach(removeFetch);

const info = (setup = {}, extra = {}) => ({
  usable: false, problems: [], musubi: { dir: '/m' }, python: { path: '/m/py' }, driver: {},
  setup: { target_dir: '/m', blocked: {}, build: null, ...setup }, ...extra,
});

async function started(first = info()) {
  const env = new TrainerEnv();
  env.start();
  request('/api/runtime').answer(first);
  await flush();
  return env;
}

describe('actions', () => {
  test('buttons blocked for the same reason share one line; a running job blocks all three', async () => {
    const env = await started(info({ blocked: { update: 'not_installed', repair: 'not_installed' } }));
    expect(env.reasonOf('setup')).toBeUndefined();
    expect(env.reasons).toHaveLength(1);
    expect(env.reasons[0]).toMatchObject({ code: 'not_installed', actions: ['update', 'repair'], id: 'rt-why-not_installed' });
    expect(env.reasons[0].text).toBe('更新、修复：尚未安装 musubi-tuner，请先点击“一键安装”。');
    expect(env.reasonOf('repair')).toBe(env.reasons[0]);

    env.job = { id: 'j1', status: 'running' };
    expect(env.reasons.map((r) => [r.code, r.actions])).toEqual([['setup_running', ['setup', 'update', 'repair']]]);
    env.job = { id: 'j1', status: 'done' };
    expect(env.reasons).toHaveLength(1);
    env.dispose();
  });

  test('what setup installs is said from the build the server plans', async () => {
    const env = await started(info({ build: { kind: 'cuda', cuda: '12.8', extra: 'cu128' } }));
    expect(env.buildWhat).toBe('CUDA 12.8 版（cu128，约 3 GB）。');
    env.info = info({ build: { kind: 'cpu', extra: 'cpu' } });
    expect(env.buildWhat).toBe('仅 CPU 版（约 200 MB）。');
    env.dispose();
  });

  test('set up asks, and asks again before replacing a folder in the way', async () => {
    const env = await started();
    request('/api/runtime/detect').answer(info());
    await flush();
    const run = env.run('setup');
    expect(confirmState).toMatchObject({ open: true, confirmLabel: '一键安装' });
    answer(true);
    await flush();
    const first = request('/api/runtime/setup');
    expect(first.body).toEqual({ action: 'setup' });
    first.answer({ error: { code: 'musubi_dir_exists', message: 'exists', details: { path: '/m/x' } } }, 409);
    await flush();
    expect(confirmState).toMatchObject({ open: true, danger: true });
    expect(confirmState.message).toContain('/m/x');
    answer(true);
    await flush();
    const again = request('/api/runtime/setup');
    expect(again.body).toEqual({ action: 'setup', replace: true });
    again.answer({ job: { id: 'j2', status: 'queued', params: { action: 'setup' } } });
    await run;
    expect(env.job.id).toBe('j2');
    expect(env.running).toBe(true);
    expect(env.actionError).toBe('');
    env.dispose();
  });
});

describe('detection', () => {
  test('only the newest detection shows, and checking ends with it', async () => {
    const env = await started();
    env.check(); // e.g. the folder saved, then the interpreter
    const [older, newer] = [request('/api/runtime/detect'), request('/api/runtime/detect')];
    expect(env.checking).toBe(true);
    newer.answer(info({}, { usable: true }));
    await flush();
    expect(env.info.usable).toBe(true);
    expect(env.checking).toBe(false);
    older.answer(info({}, { usable: false }));
    await flush();
    expect(env.info.usable).toBe(true);
    expect(pending).toEqual([]);
    env.dispose();
  });
});
