// TaskSession (lib/taskPage.svelte.js), the task page's state: which read of the task wins against live
// events, the read again once the subscription is in place (an event published before it is never sent),
// and the loss curve from live points. The server is answered by hand at the HTTP boundary (fetch), in the
// order each test needs, since the order of answers and events is what is tested.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { TaskSession, mergeLoss } from '../src/lib/taskPage.svelte.js';
import { installFetch, removeFetch, pending, request, flush } from './handFetch.js';

beforeEach(installFetch);
afterEach(removeFetch);

const task = (status, step, extra = {}) => ({
  id: 't1', name: 'Cat', status, run_no: 1, gpus: [0], progress: { stage: 'train', step, total_steps: 10 }, ...extra,
});
const answerTask = async (status, step) => {
  request('/api/tasks/t1').answer({ task: task(status, step) });
  await flush();
};

describe('reads against live events', () => {
  test('the task is read again once the subscription is in place: progress published before it shows', async () => {
    const s = new TaskSession('t1');
    s.load();
    await answerTask('running', 3); // read before the subscription: the last event (step 5) was not saved yet
    expect(s.progress.step).toBe(3);
    s.subscribed(); // the server has the subscription; step 5 was published before it and is never sent
    await answerTask('running', 5); // the server answers with what it last published
    expect(s.progress.step).toBe(5);
    s.dispose();
  });

  test('a read answered after a live event keeps what the event said', async () => {
    const s = new TaskSession('t1');
    s.load();
    s.subscribed();
    await answerTask('running', 2); // the first read, overtaken by the one after the ack
    expect(s.task).toBe(null);
    s.onEvent({ type: 'progress', data: { stage: 'train', step: 7, total_steps: 10 } });
    s.applyLive();
    s.onEvent({ type: 'status', data: task('stopping', null, { progress: null }) });
    await answerTask('running', 6); // read before those events were published
    expect(s.progress.step).toBe(7);
    expect(s.task.status).toBe('stopping');
    s.dispose();
  });

  test('an older read answered last is dropped', async () => {
    const s = new TaskSession('t1');
    s.load();
    s.subscribed();
    const first = request('/api/tasks/t1');
    await answerTask('running', 5);
    first.answer({ task: task('running', 3) });
    await flush();
    expect(s.progress.step).toBe(5);
    s.dispose();
  });

  test('back after a lost connection: the task, its outputs and the loss since the last point are read again', async () => {
    const s = new TaskSession('t1');
    s.load();
    s.subscribed();
    await answerTask('running', 0);
    await answerTask('running', 1);
    request('/api/tasks/t1/outputs').answer({ checkpoints: [], samples: [], states: [], converted: [] });
    request('/api/tasks/t1/loss').answer({ points: [{ step: 1, epoch: 1, loss: 0.5 }] });
    await flush();
    expect(pending).toEqual([]); // the first ack reads the task only

    s.onEvent({ type: 'progress', data: { stage: 'train', step: 2 } }); // before the ack: older than the read
    s.subscribed();
    await answerTask('running', 4);
    await new Promise((resolve) => setTimeout(resolve, 40)); // past the next animation frame
    expect(s.progress.step).toBe(4);
    request('/api/tasks/t1/outputs').answer({ checkpoints: [{ name: 'a.safetensors' }], samples: [], states: [], converted: [] });
    const loss = request('/api/tasks/t1/loss');
    expect(loss.url).toBe('/api/tasks/t1/loss?since=1');
    loss.answer({ points: [{ step: 2, epoch: 1, loss: 0.4 }, { step: 3, epoch: 1, loss: 0.3 }] });
    await flush();
    expect(s.outputs.checkpoints).toHaveLength(1);
    expect(s.loss.map((p) => p.step)).toEqual([1, 2, 3]);
    s.dispose();
  });

  test('a task that does not exist says so', async () => {
    const s = new TaskSession('t1');
    s.load();
    request('/api/tasks/t1').answer({ error: { code: 'task_not_found', message: 'No such task.' } }, 404);
    await flush();
    expect(s.missing).toBe(true);
    expect(pending).toEqual([]);
  });
});

describe('loss curve', () => {
  test('live points newer than the curve read are added; a new run starts a new curve', async () => {
    const s = new TaskSession('t1');
    s.load();
    await answerTask('running', 2);
    request('/api/tasks/t1/loss').answer({ points: [{ step: 1, loss: 0.9 }, { step: 2, loss: 0.8 }] });
    await flush();
    s.onEvent({ type: 'loss', data: { points: [{ step: 2, loss: 0.8 }] } }); // published before the read
    s.onEvent({ type: 'loss', data: { points: [{ step: 3, loss: 0.7 }] } });
    s.applyLive();
    expect(s.loss.map((p) => p.step)).toEqual([1, 2, 3]);
    s.onEvent({ type: 'status', data: task('running', null, { run_no: 2, progress: null }) });
    expect(s.loss).toEqual([]);
    s.dispose();
  });

  test('merging a read into the drawn curve keeps live points and takes the read ones', () => {
    const have = [{ step: 1, loss: 1 }, { step: 4, loss: 0.4 }];
    expect(mergeLoss(have, [{ step: 2, loss: 0.5 }, { step: 4, loss: 0.45 }])).toEqual([
      { step: 1, loss: 1 }, { step: 2, loss: 0.5 }, { step: 4, loss: 0.45 },
    ]);
  });
});
