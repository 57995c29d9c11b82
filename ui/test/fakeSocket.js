// The browser's WebSocket, played by hand in tests: what the page sends is recorded (`sent`), what the server
// says is fed in (`say`, `ack`). Every socket the code makes is in FakeSocket.all.
import { startSocket } from '../src/lib/ws.svelte.js';

export class FakeSocket {
  static OPEN = 1;
  static all = [];
  readyState = 0;
  sent = [];
  constructor(url) {
    this.url = url;
    FakeSocket.all.push(this);
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.readyState = 3;
    this.onclose?.();
  }
  // the server's side
  open() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
  say(msg) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  ack(request) {
    this.say({ topic: 'subscribed', type: 'subscribe', data: request.topics, id: request.id });
  }
  lastSubscribe() {
    return this.sent.filter((m) => m.op === 'subscribe').at(-1);
  }
}

/** Stand in for the browser's WebSocket and start the app's one connection (lib/ws.svelte.js), opened by the
 *  server: returns its socket. `removeFakeSocket` takes the stand-in away again. */
export function startFakeSocket() {
  globalThis.WebSocket = FakeSocket;
  globalThis.location = { protocol: 'http:', host: '127.0.0.1:1' };
  startSocket();
  const socket = FakeSocket.all.at(-1);
  socket.open();
  return socket;
}

export function removeFakeSocket() {
  delete globalThis.WebSocket;
  delete globalThis.location;
}
