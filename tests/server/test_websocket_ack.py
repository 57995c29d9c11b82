"""The websocket acknowledges each (un)subscribe with the request's id once the subscription is in place, so a
page can tell which of its requests an ack answers and read again what it may have missed before (the task
page, ui/src/lib/taskPage.svelte.js)."""

from __future__ import annotations

import json

from tests.wsclient import Client

from tests.conftest import TOKEN
from tests.server.test_websocket import recv_until


def test_the_ack_carries_the_request_id_and_every_later_event_is_delivered(server, svc):
    ws = Client.connect(f"ws://127.0.0.1:{server.port}/ws?token={TOKEN}")
    try:
        assert json.loads(ws.receive(timeout=15))["type"] == "hello"
        ws.send(json.dumps({"op": "subscribe", "topics": ["task:t1"], "id": 41}))
        ack = recv_until(ws, lambda m: m["topic"] == "subscribed")
        assert (ack["type"], ack["id"], ack["data"]) == ("subscribe", 41, ["task:t1"])
        # published the moment the ack is read: delivered
        svc.bus.publish("task:t1", "progress", {"step": 5})
        event = recv_until(ws, lambda m: m["topic"] == "task:t1")
        assert (event["type"], event["data"]) == ("progress", {"step": 5})

        ws.send(json.dumps({"op": "subscribe", "topics": ["tasks"], "id": 42}))
        ack = recv_until(ws, lambda m: m["topic"] == "subscribed")
        assert (ack["id"], ack["data"]) == (42, ["task:t1", "tasks"])
        ws.send(json.dumps({"op": "unsubscribe", "topics": ["task:t1"], "id": 43}))
        ack = recv_until(ws, lambda m: m["topic"] == "subscribed")
        assert (ack["type"], ack["id"], ack["data"]) == ("unsubscribe", 43, ["tasks"])
        # an id that is not a whole number is not echoed; no id, no id
        for bad in ("x", True, 1.5, None):
            ws.send(json.dumps({"op": "subscribe", "topics": ["tasks"], "id": bad}))
            assert "id" not in recv_until(ws, lambda m: m["topic"] == "subscribed")
    finally:
        ws.close()
