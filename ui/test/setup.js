// What the UI modules expect from a browser at import time, for tests in plain Node: the i18n table reads
// the saved language from localStorage. Each test file starts with an empty one (zh-CN, the default).
class MemoryStorage {
  #m = new Map();
  getItem(k) { return this.#m.has(k) ? this.#m.get(k) : null; }
  setItem(k, v) { this.#m.set(k, String(v)); }
  removeItem(k) { this.#m.delete(k); }
  clear() { this.#m.clear(); }
}
globalThis.localStorage = new MemoryStorage();
globalThis.sessionStorage = new MemoryStorage();
// Animation frames (the task page coalesces live events into one redraw per frame).
globalThis.requestAnimationFrame ??= (fn) => setTimeout(() => fn(Date.now()), 16);
globalThis.cancelAnimationFrame ??= (id) => clearTimeout(id);
// The theme (lib/settings.svelte.js applies it at import): the page's root element and the colour-scheme query.
globalThis.matchMedia ??= () => ({ matches: false, addEventListener() {} });
globalThis.document ??= { documentElement: { dataset: {} } };
