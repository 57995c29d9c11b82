"""tests/wsclient.py: a frame that comes in the same read as the server's 101 answer is received.

This is what a busy machine does to our /ws (hello sent right after the handshake, the client's first
read late): here a one-connection server built on wsproto sends the 101 and the first frame in ONE
send, so the client's first recv() always gets both, on any machine."""

from __future__ import annotations

import re
import socket
import threading
from pathlib import Path

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage

from tests.wsclient import connect


def _serve_once(listener: socket.socket, first: str, done: threading.Event) -> None:
    conn, _ = listener.accept()
    with conn:
        ws = WSConnection(ConnectionType.SERVER)
        request = None
        while request is None:
            ws.receive_data(conn.recv(4096))
            request = next((e for e in ws.events() if isinstance(e, Request)), None)
        conn.sendall(ws.send(AcceptConnection()) + ws.send(TextMessage(data=first)))
        done.wait(30)   # keep the socket open: a close would wake the client's reader by itself


def test_a_frame_sent_with_the_handshake_answer_is_received():
    done = threading.Event()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        server = threading.Thread(target=_serve_once, args=(listener, '{"type": "hello"}', done), daemon=True)
        server.start()
        ws = connect(f"ws://127.0.0.1:{listener.getsockname()[1]}/ws")
        try:
            assert ws.receive(timeout=10) == '{"type": "hello"}'
        finally:
            ws.close()   # before the server lets go: its close would race this one
            done.set()
            server.join(10)


def test_tests_and_benches_connect_through_tests_wsclient():
    """A websocket test written with simple_websocket's own Client would bring the race back."""
    root = Path(__file__).resolve().parents[2]
    own = re.compile(r"from simple_websocket import [^\n]*\bClient\b|simple_websocket\.Client\b")
    allowed = {root / "tests" / "wsclient.py", Path(__file__).resolve()}
    direct = [str(p.relative_to(root)) for folder in ("tests", "bench") for p in sorted((root / folder).rglob("*.py"))
              if p.resolve() not in allowed and own.search(p.read_text(encoding="utf-8"))]
    assert not direct, f"use tests.wsclient.Client (see its docstring): {direct}"
