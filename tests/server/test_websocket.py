"""The /ws endpoint over a real socket: handshake needs the secret, topics deliver events."""

from __future__ import annotations

import json
import threading

import pytest
from simple_websocket import ConnectionError as WsConnectionError

from tests.conftest import TOKEN
from tests.wsclient import Client


def recv_until(ws, predicate, timeout=15):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = ws.receive(timeout=deadline - time.monotonic())
        if raw is None:
            break
        msg = json.loads(raw)
        if predicate(msg):
            return msg
    raise AssertionError("expected message not received")


def test_handshake_without_secret_is_refused(server):
    with pytest.raises(WsConnectionError) as info:
        Client.connect(f"ws://127.0.0.1:{server.port}/ws")
    assert info.value.status_code == 401


def test_handshake_with_bad_host_is_refused(server):
    # A DNS-rebinding page would reach us with its own host name; send that handshake by hand.
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as s:
        s.sendall((
            "GET /ws HTTP/1.1\r\nHost: evil.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"X-Workbench-Token: {TOKEN}\r\n\r\n"
        ).encode())
        reply = b""
        while chunk := s.recv(4096):
            reply += chunk
        reply = reply.decode()
    assert reply.startswith("HTTP/1.1 403"), reply
    assert "bad_host" in reply


def test_subscribe_and_receive_job_events(server, svc):
    ws = Client.connect(f"ws://127.0.0.1:{server.port}/ws?token={TOKEN}")
    try:
        hello = json.loads(ws.receive(timeout=15))
        assert hello["type"] == "hello"
        ws.send(json.dumps({"op": "subscribe", "topics": ["jobs"]}))
        assert recv_until(ws, lambda m: m["topic"] == "subscribed")["data"] == ["jobs"]
        gate = threading.Event()
        job = svc.jobs.submit("demo", "Demo", lambda ctx: gate.wait(5) and ctx.progress(1, 1, force=True))
        gate.set()
        final = recv_until(ws, lambda m: m["topic"] == "jobs" and m["data"]["status"] == "done")
        assert final["data"]["id"] == job["id"]
        # unsubscribed topics are not delivered
        svc.bus.publish("system", "sample", {"ts": 0, "gpu_available": False, "gpus": [], "cpu_pct": 1})
        ws.send(json.dumps({"op": "ping", "data": 7}))
        assert recv_until(ws, lambda m: m["topic"] in ("pong", "system"))["topic"] == "pong"
    finally:
        ws.close()


def test_cookie_authenticates_the_handshake(server, svc):
    ws = Client.connect(f"ws://127.0.0.1:{server.port}/ws", headers={"Cookie": f"lw_token={TOKEN}"})
    try:
        assert json.loads(ws.receive(timeout=15))["type"] == "hello"
        ws.send("not json")
        assert recv_until(ws, lambda m: m["topic"] == "error")["data"]["code"] == "invalid_json"
    finally:
        ws.close()
