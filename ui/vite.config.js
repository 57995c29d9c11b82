import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
// `npm run dev` proxies the API to a server started with `launcher.py --headless --port 8765`.
const backend = process.env.WORKBENCH_BACKEND || 'http://127.0.0.1:8765';

export default defineConfig({
  root,
  plugins: [svelte()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  server: {
    proxy: {
      '/api': backend,
      '/media': backend,
      '/auth': backend,
      '/ws': { target: backend.replace('http', 'ws'), ws: true },
    },
  },
});
