// One websocket for the whole UI. Components subscribe to topics (`jobs`, `dataset:<id>`,
// `task:<id>`, `system`...) with a handler; the connection reconnects with backoff when it drops
// and re-subscribes to every topic still wanted. The server acknowledges each subscribe (server/api/ws.py,
// the request's `id` echoed) once every later event will be delivered: `onSubscribed` runs then, and again
// after each reconnect, so a page can read over HTTP what it may have missed before (lib/taskPage.svelte.js).
import { withToken } from './api.js';

export const connection = $state({ status: 'connecting', everConnected: false, retries: 0 });

const handlers = new Map(); // topic -> Set({fn, onSubscribed})
const acked = new Set(); // topics whose subscription the server has acknowledged on this connection
const requested = new Map(); // topic -> id of its latest subscribe request
const requests = new Map(); // request id -> topics, until its ack comes
let nextId = 1;
let socket = null;
let backoff = 500;
let timer = null;

function send(msg) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
}

function requestSubscribe(topics) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return; // onopen subscribes to every wanted topic
  const id = nextId++;
  for (const topic of topics) requested.set(topic, id);
  requests.set(id, topics);
  send({ op: 'subscribe', topics, id });
}

// The ack of request `id`: its topics are live now, unless a later request for a topic is still on its way
// (unsubscribed and subscribed again meanwhile: that one's ack is the one that counts).
function onAck(id) {
  const topics = requests.get(id);
  if (!topics) return;
  requests.delete(id);
  for (const topic of topics) {
    if (requested.get(topic) !== id || !handlers.has(topic)) continue;
    requested.delete(topic);
    acked.add(topic);
    for (const h of [...handlers.get(topic)]) h.onSubscribed?.();
  }
}

function connect() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  socket = new WebSocket(withToken(`${proto}//${location.host}/ws`));
  connection.status = 'connecting';
  socket.onopen = () => {
    connection.status = 'open';
    connection.everConnected = true;
    connection.retries = 0;
    backoff = 500;
    if (handlers.size) requestSubscribe([...handlers.keys()]);
  };
  socket.onmessage = (ev) => {
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (msg.topic === 'subscribed' && msg.type === 'subscribe') return onAck(msg.id);
    const exact = handlers.get(msg.topic);
    if (exact) for (const h of [...exact]) h.fn(msg);
  };
  socket.onclose = () => {
    acked.clear();
    requested.clear();
    requests.clear();
    connection.status = 'closed';
    connection.retries += 1;
    clearTimeout(timer);
    timer = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 5000);
  };
  socket.onerror = () => socket && socket.close();
}

export function startSocket() {
  if (!socket) connect();
}

/** Subscribe `handler(event)` to `topic`; returns the function that unsubscribes. `onSubscribed()`, if given,
 * runs each time the server has the subscription in place (the first time, and after every reconnect):
 * events published from then on reach `handler`, those published before did not. */
export function subscribe(topic, handler, onSubscribed = null) {
  const entry = { fn: handler, onSubscribed };
  let set = handlers.get(topic);
  if (!set) {
    set = new Set();
    handlers.set(topic, set);
    requestSubscribe([topic]);
  }
  set.add(entry);
  // Another handler already has the topic live: so has this one, from now on.
  if (onSubscribed && acked.has(topic)) queueMicrotask(() => set.has(entry) && onSubscribed());
  return () => {
    set.delete(entry);
    if (!set.size) {
      handlers.delete(topic);
      acked.delete(topic);
      requested.delete(topic);
      send({ op: 'unsubscribe', topics: [topic] });
    }
  };
}
