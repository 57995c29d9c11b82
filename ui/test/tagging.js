// What the tagging tests share: the tagging settings back at their defaults on the server (and in the UI's
// settings), so each test starts from the same saved state whatever ran before it.
import { settings, loadSettings } from '../src/lib/settings.svelte.js';
import { loadTagging } from '../src/lib/tagging.svelte.js';
import { call } from './liveServer.js';

export async function resetTagging(server) {
  if (!settings.schema.length) await loadSettings();
  const defaults = {};
  for (const s of settings.schema) if (s.group === 'tagging' || s.group?.startsWith('tagging.')) defaults[s.key] = s.secret ? '' : s.default;
  await call(server, 'PATCH', '/api/settings', defaults);
  await loadSettings();
  await loadTagging(true);
}
