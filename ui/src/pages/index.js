// Route name -> page component. Each area owns its page files; this map is the only shared point.
// The start page comes with the app's script; every other page is its own chunk, loaded on its first
// visit (the task page brings the terminal and the charts, the dataset page its grid and tag editor),
// so a launch parses about half the script it would otherwise.
import DatasetsPage from './DatasetsPage.svelte';
import NotFound from './NotFound.svelte';

const eager = {
  datasets: DatasetsPage,
  'not-found': NotFound,
};

const lazy = {
  dataset: () => import('./DatasetPage.svelte'),
  'new-task': () => import('./NewTaskPage.svelte'),
  tasks: () => import('./TasksPage.svelte'),
  task: () => import('./TaskPage.svelte'),
  settings: () => import('./SettingsPage.svelte'),
};

/** The route's page: the component itself, or a promise of it while its chunk loads. */
export function pageFor(name) {
  if (eager[name]) return eager[name];
  if (lazy[name]) return lazy[name]().then((mod) => mod.default);
  return eager['not-found'];
}
