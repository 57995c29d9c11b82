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

// lib/settings.svelte.js applies the saved theme when it loads: it reads media queries and marks the page's
// root element. Neither is there in Node; these stand-ins take the marks and match no query.
globalThis.matchMedia ??= () => ({ matches: false, addEventListener() {}, removeEventListener() {} });
globalThis.document ??= { documentElement: { dataset: {}, lang: '' } };
