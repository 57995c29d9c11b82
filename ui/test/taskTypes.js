// The real task-type table (server/training/catalog.py, what GET /api/task-types serves), read from the
// server code with the project's Python: LW_PYTHON (tests/ui/test_vitest.py passes its own), else the venv's.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../..', import.meta.url));

export function python() {
  if (process.env.LW_PYTHON) return process.env.LW_PYTHON;
  for (const p of ['.venv/bin/python', '.venv/Scripts/python.exe']) if (existsSync(repo + p)) return repo + p;
  return 'python3';
}

const SCRIPT = 'import json; from server.api.tasks import task_types; print(json.dumps(task_types()))';

export function loadTable() {
  return JSON.parse(execFileSync(python(), ['-c', SCRIPT], { cwd: repo, encoding: 'utf8', windowsHide: true }));
}
