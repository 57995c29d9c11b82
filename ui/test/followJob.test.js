// lib/jobs.svelte.js followJob: the job's state comes from its websocket topic (the server replays what the
// subscription missed) and, once, from GET /api/jobs/<id>. That answer can be older than an event that reached the
// page first; it must not put the older state back. The socket is played by fakeSocket.js, the server's answers
// by handFetch.js.
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from 'vitest';
import { followJob } from '../src/lib/jobs.svelte.js';
import { installFetch, removeFetch, request, flush } from './handFetch.js';
import { removeFakeSocket, startFakeSocket } from './fakeSocket.js';

let socket;
beforeAll(() => {
  socket = startFakeSocket();
});
afterAll(removeFakeSocket);
beforeEach(installFetch);
afterEach(removeFetch);

const jobEvent = (data) => socket.say({ topic: `job:${data.id}`, type: 'job', data });

test('an answer read before a newer event does not put the older state back', async () => {
  const seen = [];
  const stop = followJob('j1', (job) => seen.push(job.message_code ?? null));
  const fetched = request('/api/jobs/j1');
  jobEvent({ id: 'j1', status: 'running', message_code: 'rt_download' });
  fetched.answer({ job: { id: 'j1', status: 'running', message_code: null } }); // read before that event
  await flush();
  expect(seen).toEqual(['rt_download']);
  stop();
});

test('with no event yet (a replay that no longer holds the job), the answer shows the job', async () => {
  const seen = [];
  const stop = followJob('j2', (job) => seen.push(job.status));
  request('/api/jobs/j2').answer({ job: { id: 'j2', status: 'running' } });
  await flush();
  expect(seen).toEqual(['running']);
  jobEvent({ id: 'j2', status: 'done' });
  expect(seen).toEqual(['running', 'done']);
  stop();
});
