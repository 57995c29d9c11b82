"""The websocket: `/ws`. Clients send {"op": "subscribe"|"unsubscribe", "topics": [...], "id": n} or
{"op": "ping"}; the server sends events {"topic", "type", "data", "ts"} for subscribed topics.

Each (un)subscribe is acknowledged with {"topic": "subscribed", "type": op, "data": [every topic now
subscribed], "id": n} (`id` echoed when the request gave an integer one), sent once the subscription is
active: every event published after the ack is delivered. A page that reads state over HTTP reads it again
after the ack, so an event published before it subscribed cannot leave it showing older state
(ui/src/lib/ws.svelte.js `subscribe(topic, handler, onSubscribed)`).

The launch secret is checked by the security guard before the handshake (cookie, header or
?token=), like every other protected route. The websocket stack (flask-sock, simple-websocket, wsproto,
h11: ~0.1 s of imports) loads on the first connection, not while the app starts (launcher.py).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from .. import jsonsafe
from ..errors import ApiError
from ..services import services
from ..version import __version__

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    views = []
    lock = threading.Lock()

    def ws_view(**kwargs):
        with lock:
            if not views:
                views.append(_flask_sock_view(_serve))
        return views[0](**kwargs)

    app.add_url_rule("/ws", "ws", ws_view, websocket=True)


def _flask_sock_view(handler):
    """flask-sock's view around `handler(connection)`: the handshake, the close, and the response werkzeug
    must not write. `Sock.route(bp=...)` hands it to the blueprint given; this one only keeps it."""
    from flask_sock import Sock

    class Keep:
        def route(self, path, **kwargs):
            return kept.append

    kept = []
    Sock().route("/ws", bp=Keep())(handler)
    return kept[0]


def _serve(connection):
    from simple_websocket import ConnectionClosed

    svc = services()
    sub = svc.bus.subscription()
    send = _Sender(connection)
    # Two blocking waits instead of a polling loop: this thread sleeps in receive() until the client
    # says something, a second one sleeps on the subscription's queue until an event is published.
    # An idle connection costs no wake-ups at all (simple_websocket's own reader pings every 25 s),
    # and an event is sent the moment it is published.
    pump = threading.Thread(target=_pump_events, args=(sub, send), name="ws-events", daemon=True)
    try:
        send({"topic": "hello", "type": "hello", "data": {"version": __version__}})
        pump.start()
        while True:
            message = connection.receive()
            if message is None:   # only after a close
                break
            _handle(send, sub, message)
    except ConnectionClosed:
        pass
    finally:
        sub.close()
        sub.offer(STOP)   # wakes the event thread; it sends nothing more
        if pump.is_alive():
            pump.join(timeout=5)


STOP = {"type": "__stop__"}
BATCH = 200   # events sent per queue wake-up before looking at the queue again


class _Sender:
    """connection.send from two threads: one frame at a time."""

    def __init__(self, connection):
        self.connection = connection
        self.lock = threading.Lock()

    def __call__(self, event: dict) -> None:
        # Through jsonsafe: a lone surrogate in an event (a stored row) must not drop the client.
        text = jsonsafe.dumps(event, default=str)
        with self.lock:
            self.connection.send(text)


def _pump_events(sub, send: _Sender) -> None:
    from simple_websocket import ConnectionClosed

    try:
        while True:
            event = sub.get()   # blocks until something is published for this connection
            for _ in range(BATCH):
                if event is None:
                    break
                if event is STOP:
                    return
                send(event)
                event = sub.get(timeout=0)
    except ConnectionClosed:
        pass
    except Exception:  # noqa: BLE001 - a broken socket must end this thread, not leave it blocked forever
        log.debug("websocket event thread ended", exc_info=True)


def _handle(send: _Sender, sub, message) -> None:
    try:
        msg = jsonsafe.loads(message)
    except ApiError as exc:
        send({"topic": "error", "type": "error", "data": {"code": exc.code}})
        return
    if not isinstance(msg, dict):
        send({"topic": "error", "type": "error", "data": {"code": "invalid_json"}})
        return
    op = msg.get("op")
    topics = msg.get("topics")
    topics = [t for t in topics if isinstance(t, str)] if isinstance(topics, list) else []
    if op == "subscribe":
        sub.subscribe(*topics)
    elif op == "unsubscribe":
        sub.unsubscribe(*topics)
    elif op == "ping":
        send({"topic": "pong", "type": "pong", "data": msg.get("data")})
        return
    else:
        send({"topic": "error", "type": "error", "data": {"code": "unknown_op", "op": op}})
        return
    ack = {"topic": "subscribed", "type": op, "data": sorted(sub.topics)}
    request_id = msg.get("id")
    if isinstance(request_id, int) and not isinstance(request_id, bool):
        ack["id"] = request_id
    send(ack)
