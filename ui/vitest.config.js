// JS unit tests of the UI's state classes (`npm test`, or through tests/ui/test_vitest.py in ./test.sh):
// plain Node, no browser. Runes modules (*.svelte.js) are compiled for the client, as the app runs them.
import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [svelte({ dynamicCompileOptions: () => ({ generate: 'client' }) })],
  test: {
    include: ['test/**/*.test.js'],
    environment: 'node',
    setupFiles: ['test/setup.js'],
    // a busy machine: reading the task-type table starts Python and imports the server
    hookTimeout: 120_000,
    testTimeout: 60_000,
  },
});
