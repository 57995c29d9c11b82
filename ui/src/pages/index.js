// Route name -> page component. Each area owns its page files; this map is the only shared point.
import DatasetsPage from './DatasetsPage.svelte';
import DatasetPage from './DatasetPage.svelte';
import NewTaskPage from './NewTaskPage.svelte';
import TasksPage from './TasksPage.svelte';
import TaskPage from './TaskPage.svelte';
import SettingsPage from './SettingsPage.svelte';
import NotFound from './NotFound.svelte';

export const pages = {
  datasets: DatasetsPage,
  dataset: DatasetPage,
  'new-task': NewTaskPage,
  tasks: TasksPage,
  task: TaskPage,
  settings: SettingsPage,
  'not-found': NotFound,
};
