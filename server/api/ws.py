"""The websocket: `/ws`. Clients send {"op": "subscribe"|"unsubscribe", "topics": [...]} or
{"op": "ping"}; the server sends events {"topic", "type", "data", "ts"} for subscribed topics.

The launch secret is checked by the security guard before the handshake (cookie, header or
?token=), like every other protected route.
"""

from __future__ import annotations

import json
import logging

from flask import Flask
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from .. import jsonsafe, services
from ..errors import ApiError
from ..version import __version__

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    sock = Sock(app)

    @sock.route("/ws")
    def ws(connection):
        svc = services()
        sub = svc.bus.subscription()
        try:
            connection.send(json.dumps({"topic": "hello", "type": "hello", "data": {"version": __version__}}))
            while True:
                # Alternate between reading client messages and flushing queued events; a short
                # receive timeout keeps event latency low without a second thread per client.
                message = connection.receive(timeout=0.05)
                if message is not None:
                    _handle(connection, sub, message)
                for _ in range(200):
                    event = sub.get(timeout=0)
                    if event is None:
                        break
                    # Through jsonsafe: a lone surrogate in an event (a stored row) must not drop the client.
                    connection.send(jsonsafe.dumps(event, default=str))
        except ConnectionClosed:
            pass
        finally:
            sub.close()


def _handle(connection, sub, message) -> None:
    try:
        msg = jsonsafe.loads(message)
    except ApiError as exc:
        connection.send(json.dumps({"topic": "error", "type": "error", "data": {"code": exc.code}}))
        return
    if not isinstance(msg, dict):
        connection.send(json.dumps({"topic": "error", "type": "error", "data": {"code": "invalid_json"}}))
        return
    op = msg.get("op")
    topics = msg.get("topics")
    topics = [t for t in topics if isinstance(t, str)] if isinstance(topics, list) else []
    if op == "subscribe":
        sub.subscribe(*topics)
    elif op == "unsubscribe":
        sub.unsubscribe(*topics)
    elif op == "ping":
        connection.send(json.dumps({"topic": "pong", "type": "pong", "data": msg.get("data")}))
        return
    else:
        connection.send(json.dumps({"topic": "error", "type": "error", "data": {"code": "unknown_op", "op": op}}))
        return
    connection.send(json.dumps({"topic": "subscribed", "type": op, "data": sorted(sub.topics)}))
