// The real app for the JS tests of state classes that talk to the server: launcher.py --headless on a fresh
// data folder (as tests/live.py starts it for the browser tests), and the UI's own api module pointed at it,
// so what a class sends is validated, saved and answered by the server itself.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { python, repo } from './taskTypes.js';

const URL_RE = /running at (http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+)/;

/** Start the app; resolves to {base, token, stop()} once it prints its address (or rejects with its output). */
export function startServer(timeoutMs = 90_000) {
  const dataDir = mkdtempSync(join(tmpdir(), 'lw-vitest-'));
  const proc = spawn(python(), ['-u', 'launcher.py', '--headless', '--data-dir', dataDir], {
    cwd: repo,
    env: { ...process.env, LORA_WORKBENCH_GPU_PROVIDER: 'none', LORA_WORKBENCH_STRICT_EVENTS: '1' },
    windowsHide: true,
  });
  let output = '';
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  async function stop() {
    if (proc.exitCode === null) proc.kill();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 5 }); // Windows: sqlite may hold it a moment
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail('did not start in time'), timeoutMs);
    function fail(why) {
      clearTimeout(timer);
      stop().finally(() => reject(new Error(`launcher ${why}:\n${output}`)));
    }
    const read = (chunk) => {
      output += chunk;
      const m = URL_RE.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ base: m[1], token: m[2], dataDir, stop });
      }
    };
    proc.stdout.setEncoding('utf8').on('data', read);
    proc.stderr.setEncoding('utf8').on('data', read);
    proc.once('exit', (code) => fail(`exited (${code})`));
  });
}

/** Send the UI's requests (lib/api.js: relative URLs, the launch secret from sessionStorage) to `server`. */
export function useServer(server) {
  const fetch = globalThis.fetch;
  globalThis.fetch = (path, init) => fetch(new URL(path, server.base), init);
  sessionStorage.setItem('lw_token', server.token);
  return () => {
    globalThis.fetch = fetch;
    sessionStorage.removeItem('lw_token');
  };
}

/** One request as a test makes it (outside the classes under test). */
export async function call(server, method, path, body) {
  const resp = await fetch(new URL(path, server.base), {
    method,
    headers: { 'X-Workbench-Token': server.token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await resp.json();
  if (!resp.ok) throw Object.assign(new Error(data.error?.message), { status: resp.status, error: data.error });
  return data;
}
