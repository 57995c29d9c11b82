// DatasetList (lib/datasetsPage.svelte.js), the datasets page's state: a new dataset's free name and rename in
// place, what a rename sends, the trash's counts, and a burst of live events read as one refetch. The server
// is answered by hand (handFetch.js).
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { DatasetList } from '../src/lib/datasetsPage.svelte.js';
import { confirmState, answer } from '../src/lib/confirm.svelte.js';
import { installFetch, removeFetch, pending, request, flush } from './handFetch.js';

beforeEach(installFetch);
afterEach(() => {
  removeFetch();
  vi.useRealTimers();
});

const ds = (id, name, extra = {}) => ({ id, name, type: 'image', item_count: 0, captioned_count: 0, ...extra });

async function loaded(rows) {
  const list = new DatasetList();
  list.load();
  request('/api/datasets').answer({ datasets: rows });
  await flush();
  return list;
}

describe('create and rename', () => {
  test('a new dataset gets the first free default name, comes first and is renamed in place', async () => {
    const list = await loaded([ds('a', '新数据集'), ds('b', '新数据集 2')]);
    expect(list.freeName()).toBe('新数据集 3');
    const done = list.create();
    expect(list.creating).toBe(true);
    const req = request('/api/datasets');
    expect(req.method).toBe('POST');
    expect(req.body).toEqual({ name: '新数据集 3', type: 'image' });
    req.answer({ dataset: ds('c', '新数据集 3') });
    await done;
    expect(list.datasets.map((d) => d.id)).toEqual(['c', 'a', 'b']);
    expect([list.renaming, list.renameText, list.creating]).toEqual(['c', '新数据集 3', false]);
  });

  test('a rename sends the trimmed name once; an empty or unchanged one sends nothing', async () => {
    const list = await loaded([ds('a', 'Cats'), ds('b', 'Dogs')]);
    list.startRename(list.datasets[0]);
    list.renameText = '  Cats  ';
    list.commitRename(list.datasets[0]);
    list.startRename(list.datasets[1]);
    list.renameText = '   ';
    list.commitRename(list.datasets[1]);
    await flush();
    expect(pending).toEqual([]);

    list.startRename(list.datasets[1]);
    list.renameText = ' 狗狗 ';
    const done = list.commitRename(list.datasets[1]);
    expect(list.renaming).toBe(null);
    list.commitRename(list.datasets[1]); // the blur after Enter: already committed
    const req = request('/api/datasets/b');
    expect([req.method, req.body]).toEqual(['PATCH', { name: '狗狗' }]);
    expect(pending).toEqual([]);
    req.answer({ dataset: ds('b', '狗狗') });
    await done;
    expect(list.datasets.map((d) => d.name)).toEqual(['Cats', '狗狗']);
  });
});

describe('trash', () => {
  test('items in the trash are counted per dataset still listed, and in all', async () => {
    const list = await loaded([ds('a', 'Cats'), ds('b', 'Dogs')]);
    const opened = list.toggleTrash();
    request('/api/trash').answer({ datasets: [ds('z', 'Old')], item_counts: { a: 2, z: 5 } });
    await opened;
    expect(list.showTrash).toBe(true);
    expect(list.itemTrash.map(({ ds: d, n }) => [d.id, n])).toEqual([['a', 2]]);
    expect(list.trashedItemTotal).toBe(7);
  });

  test('delete asks first, then moves the dataset to the trash', async () => {
    const list = await loaded([ds('a', 'Cats', { item_count: 3 })]);
    const done = list.remove(list.datasets[0]);
    expect(confirmState).toMatchObject({ open: true, danger: true });
    expect(confirmState.message).toContain('Cats');
    answer(true);
    await flush();
    const req = request('/api/datasets/a');
    expect(req.method).toBe('DELETE');
    req.answer({ trashed: 'a' });
    await done;
    expect(list.datasets).toEqual([]);
  });
});

test('a burst of live events is one refetch', async () => {
  vi.useFakeTimers();
  const list = new DatasetList();
  for (let i = 0; i < 5; i++) list.scheduleReload();
  vi.advanceTimersByTime(300);
  expect(pending.map((r) => r.url)).toEqual(['/api/datasets']);
  list.dispose();
});
