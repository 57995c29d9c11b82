// "Open" / "show in folder" happen on the machine that runs the app. In server mode that machine is
// not the one in front of the user (nothing may open on its desktop), so the same buttons download:
// the file itself, or a folder as a zip the server streams (server/api/files.py).
import { api, withToken } from './api.js';
import { settings } from './settings.svelte.js';

export const serverMode = () => !!settings.health?.server_mode;

/** Start a browser download of an API URL (the cookie, or the dev server's token, authorizes it). */
export function download(url) {
  const a = document.createElement('a');
  a.href = withToken(url);
  a.download = '';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/** A task's file or folder (relative to the task folder): shown in the file manager, or downloaded. */
export function showTaskPath(taskId, path, reveal = false) {
  if (serverMode()) return Promise.resolve(download(`/api/tasks/${taskId}/download?path=${encodeURIComponent(path)}`));
  return api.post(`/api/tasks/${taskId}/open`, { path, reveal });
}
