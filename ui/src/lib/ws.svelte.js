// One websocket for the whole UI. Components subscribe to topics (`jobs`, `dataset:<id>`,
// `task:<id>`, `system`...) with a handler; the connection reconnects with backoff when it drops
// and re-subscribes to every topic still wanted.
import { withToken } from './api.js';

export const connection = $state({ status: 'connecting', everConnected: false, retries: 0 });

const handlers = new Map(); // topic -> Set(handler)
let socket = null;
let backoff = 500;
let timer = null;

function send(msg) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
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
    if (handlers.size) send({ op: 'subscribe', topics: [...handlers.keys()] });
  };
  socket.onmessage = (ev) => {
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    const exact = handlers.get(msg.topic);
    if (exact) for (const fn of exact) fn(msg);
  };
  socket.onclose = () => {
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

/** Subscribe `handler(event)` to `topic`; returns the function that unsubscribes. */
export function subscribe(topic, handler) {
  let set = handlers.get(topic);
  if (!set) {
    set = new Set();
    handlers.set(topic, set);
    send({ op: 'subscribe', topics: [topic] });
  }
  set.add(handler);
  return () => {
    set.delete(handler);
    if (!set.size) {
      handlers.delete(topic);
      send({ op: 'unsubscribe', topics: [topic] });
    }
  };
}
