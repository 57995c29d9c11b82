// Hash routing: `#/datasets/ds_123` -> { name: 'dataset', params: { id: 'ds_123' } }.
// Hash URLs need no server support and survive a reload inside the native window.
const routes = [
  ['datasets', /^\/datasets\/?$/],
  ['dataset', /^\/datasets\/(?<id>[^/]+)\/?$/],
  ['new-task', /^\/tasks\/new\/?$/],
  ['tasks', /^\/tasks\/?$/],
  ['task', /^\/tasks\/(?<id>[^/]+)\/?$/],
  ['settings', /^\/settings\/?$/],
];

function parse() {
  const raw = decodeURIComponent(location.hash.replace(/^#/, '')) || '/datasets';
  const [path, query = ''] = raw.split('?');
  for (const [name, re] of routes) {
    const m = path.match(re);
    if (m) return { name, params: { ...(m.groups || {}) }, query: Object.fromEntries(new URLSearchParams(query)), path };
  }
  return { name: 'not-found', params: {}, query: {}, path };
}

export const route = $state(parse());

window.addEventListener('hashchange', () => Object.assign(route, parse()));

export function navigate(path) {
  location.hash = '#' + path;
}
