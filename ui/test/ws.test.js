// lib/ws.svelte.js: a subscription's `onSubscribed` runs when the server acknowledges that very request (its id
// echoed, server/api/ws.py), again after a reconnect, and not for an ack an unsubscribe made stale. The socket
// is the browser's API, played here by hand: what the page sends is recorded, what the server says is fed in.
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { subscribe, connection } from '../src/lib/ws.svelte.js';
import { FakeSocket, removeFakeSocket, startFakeSocket } from './fakeSocket.js';

let socket;
beforeAll(() => {
  vi.useFakeTimers();
  socket = startFakeSocket();
});
afterAll(() => {
  vi.useRealTimers();
  removeFakeSocket();
});

test('onSubscribed runs on the ack of its own request, and the topic\'s events reach the handler', async () => {
  const events = [];
  let acks = 0;
  const off = subscribe('task:a', (ev) => events.push(ev.type), () => acks++);
  const req = socket.lastSubscribe();
  expect(req).toMatchObject({ op: 'subscribe', topics: ['task:a'] });
  expect(Number.isInteger(req.id)).toBe(true);
  socket.say({ topic: 'subscribed', type: 'subscribe', data: ['task:a'], id: req.id + 100 }); // someone else's
  expect(acks).toBe(0);
  socket.ack(req);
  expect(acks).toBe(1);
  socket.say({ topic: 'task:a', type: 'progress', data: {} });
  expect(events).toEqual(['progress']);

  // a second handler on a topic already in place: told at once, with no new request
  let second = 0;
  const sent = socket.sent.length;
  const off2 = subscribe('task:a', () => {}, () => second++);
  await Promise.resolve();
  expect(second).toBe(1);
  expect(socket.sent.length).toBe(sent);
  off2();
  off();
  expect(socket.sent.at(-1)).toEqual({ op: 'unsubscribe', topics: ['task:a'] });
});

test('an ack made stale by an unsubscribe does not count: the new request\'s ack does', () => {
  let acks = 0;
  const off = subscribe('task:b', () => {}, () => acks++);
  const first = socket.lastSubscribe();
  off(); // gone before the server answered, then wanted again
  subscribe('task:b', () => {}, () => acks++);
  const again = socket.lastSubscribe();
  expect(again.id).not.toBe(first.id);
  socket.ack(first); // the server had it, then the unsubscribe ends it, then the new subscribe starts it
  expect(acks).toBe(0);
  socket.ack(again);
  expect(acks).toBe(1);
});

test('after a reconnect every topic is asked for again and onSubscribed runs again', () => {
  let acks = 0;
  subscribe('task:c', () => {}, () => acks++);
  socket.ack(socket.lastSubscribe());
  expect(acks).toBe(1);
  socket.close();
  expect(connection.status).toBe('closed');
  vi.advanceTimersByTime(5000); // the reconnect backoff
  const next = FakeSocket.all.at(-1);
  expect(next).not.toBe(socket);
  socket = next;
  socket.open();
  const req = socket.lastSubscribe();
  expect(req.topics).toContain('task:c');
  expect(acks).toBe(1);
  socket.ack(req);
  expect(acks).toBe(2);
});
