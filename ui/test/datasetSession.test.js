// DatasetSession (lib/datasetPage.svelte.js), the dataset page's shared state: undo/redo state with a batch
// delete made here, the live events that need no refetch, and notices. Server calls are the browser tests'.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { DatasetSession } from '../src/lib/datasetPage.svelte.js';

const step = (id, op = 'set_caption') => ({ id, op, params: {} });

afterEach(() => vi.useRealTimers());

describe('history', () => {
  test('a batch delete made here is what Undo shows, until another step comes in', () => {
    const s = new DatasetSession('d1');
    s.setHistory({ can_undo: true, can_redo: false, undo: step(4) });
    expect(s.shownHistory).toEqual({ can_undo: true, can_redo: false, undo: step(4), redo: null });

    s.lastDelete = { batch: 'b1', n: 3, undoId: 4 };
    expect(s.shownHistory.can_undo).toBe(true);
    expect(s.shownHistory.undo).toEqual({ op: 'delete_items', params: { n: 3 } });

    s.setHistory({ can_undo: true, undo: step(4) }); // the same state again: the delete is still the last thing done
    expect(s.lastDelete).not.toBe(null);
    s.setHistory({ can_undo: true, undo: step(5) }); // something newer (a caption edit): Undo undoes that
    expect(s.lastDelete).toBe(null);
    expect(s.shownHistory.undo).toEqual(step(5));
  });

  test('a missing history answer reads as nothing to undo or redo', () => {
    const s = new DatasetSession('d1');
    s.setHistory({});
    expect(s.history).toEqual({ can_undo: false, can_redo: false, undo: null, redo: null });
  });
});

describe('live events', () => {
  test('thumbnail progress shows while it runs and goes when done', () => {
    const s = new DatasetSession('d1');
    s.onEvent({ type: 'thumbnails', data: { done: 2, total: 5 } });
    expect(s.thumbs).toEqual({ done: 2, total: 5 });
    s.onEvent({ type: 'thumbnails', data: { done: 5, total: 5 } });
    expect(s.thumbs).toBe(null);
  });

  test('dataset record, history and trashing come from events', () => {
    const s = new DatasetSession('d1');
    s.onEvent({ type: 'dataset_updated', data: { id: 'd1', name: 'renamed', item_count: 2 } });
    expect(s.ctx.dataset.name).toBe('renamed');
    s.onEvent({ type: 'history', data: { can_undo: true, undo: step(9) } });
    expect(s.history.undo).toEqual(step(9));
    expect(s.notFound).toBe(false);
    s.onEvent({ type: 'dataset_trashed', data: {} });
    expect(s.notFound).toBe('dataset_trashed');
  });
});

describe('notices', () => {
  test('a notice replaces the last one and goes after its time; 0 keeps it', () => {
    vi.useFakeTimers();
    const s = new DatasetSession('d1');
    s.say('first', 'ok', 1000);
    s.say('second', 'warn', 3000);
    expect(s.notice).toMatchObject({ text: 'second', kind: 'warn' });
    vi.advanceTimersByTime(2000);
    expect(s.notice?.text).toBe('second'); // the first one's timer no longer clears it
    vi.advanceTimersByTime(1000);
    expect(s.notice).toBe(null);
    s.say('stays', 'ok', 0);
    vi.advanceTimersByTime(60_000);
    expect(s.notice?.text).toBe('stays');
    s.dispose();
  });
});
