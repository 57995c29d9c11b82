// Task actions shared by the task list and the task page: start, stop, resume, restart, delete
// (with its questions: stop a running task first? keep the trained files?).
import { api } from './api.js';
import { confirmDialog } from './confirm.svelte.js';
import { pushError } from './errors.svelte.js';
import { t } from './i18n/index.svelte.js';
import { ACTIVE, TASK_FINAL, errorText } from './training.js';

/** Which actions a task in this status offers. */
export function actionsFor(task) {
  const s = task.status;
  return {
    start: s === 'draft',
    stop: ACTIVE.includes(s) && s !== 'stopping',
    resume: ['stopped', 'failed', 'interrupted'].includes(s),
    restart: TASK_FINAL.includes(s),
  };
}

/** A refused start/resume in the UI language (the server names the files or option to fix). */
function refused(e) {
  pushError({ ...e, message: errorText(e) });
  throw e;
}

export function startTask(task) {
  return api.post(`/api/tasks/${task.id}/start`, {}, { quiet: true }).catch(refused);
}

export function stopTask(task) {
  return api.post(`/api/tasks/${task.id}/stop`);
}

/** Ask first, then stop: a stop ends the run (a resume needs a saved state), so it is not one click away. */
export async function askStopTask(task) {
  const ok = await confirmDialog({
    title: t('ux.stop.title', { name: task.name }),
    message: t('ux.stop.message'),
    confirmLabel: t('ux.stop.confirm'),
    danger: true,
  });
  return ok ? stopTask(task) : null;
}

/** Resume from the latest saved state, or (when there is none) offer the latest checkpoint. */
export async function resumeTask(task) {
  try {
    return await api.post(`/api/tasks/${task.id}/resume`, { from: 'state' }, { quiet: true });
  } catch (e) {
    // No state to resume from, or a schedule that cannot continue from it: offer what works.
    if (e.code !== 'nothing_to_resume' && e.code !== 'resume_schedule_unknown') refused(e);
    const message = e.code === 'nothing_to_resume' ? t('training.actions.noState') : errorText(e);
    const choice = await confirmDialog({
      title: t('training.actions.resumeTitle'), message,
      choices: [{ value: 'weights', label: t('training.actions.fromWeights') }, { value: 'restart', label: t('training.actions.restart') }],
    });
    if (choice === 'weights') return api.post(`/api/tasks/${task.id}/resume`, { from: 'weights' }, { quiet: true }).catch(refused);
    if (choice === 'restart') return startTask(task);
    return null;
  }
}

async function waitUntilStopped(id, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const { task } = await api.get(`/api/tasks/${id}`);
    if (!ACTIVE.includes(task.status)) return task;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(t('training.actions.stopTimeout'));
}

/** Ask, (stop,) delete. Resolves to true when the task was deleted. */
export async function deleteTask(task) {
  const running = ACTIVE.includes(task.status);
  const choice = await confirmDialog({
    title: t('training.actions.deleteTitle', { name: task.name }),
    message: (running ? t('training.actions.deleteRunning') + '\n\n' : '') + t('training.actions.deleteFiles', { folder: task.folder }),
    choices: [
      { value: 'keep', label: t(running ? 'training.actions.stopDeleteKeep' : 'training.actions.deleteKeep') },
      { value: 'all', label: t(running ? 'training.actions.stopDeleteAll' : 'training.actions.deleteAll'), danger: true },
    ],
  });
  if (!choice) return false;
  if (running) {
    await stopTask(task);
    await waitUntilStopped(task.id);
  }
  await api.del(`/api/tasks/${task.id}?${choice === 'keep' ? 'keep_files=1' : 'confirm=1'}`);
  return true;
}
