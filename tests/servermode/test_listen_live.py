"""The real launcher in server mode: `--listen 127.0.0.2` (any 127/8 address is loopback on Linux) with an
allowed host name, reached over real sockets; what it refuses and what it serves."""

from __future__ import annotations

import http.client
import json
import os
import socket
import sys

import pytest

from server.login_limit import MAX_FAILURES
from tests.live import LiveApp
from tests.servermode.conftest import ALLOWED, SECRET

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="127.0.0.2 is loopback on Linux")

ENV = {"LORA_WORKBENCH_GPU_PROVIDER": "none", "LORA_WORKBENCH_TOKEN": SECRET}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = LiveApp(tmp_path_factory.mktemp("srv") / "data", env=ENV,
                  extra_args=["--listen", "127.0.0.2", "--allowed-host", ALLOWED]).wait_ready()
    yield app
    app.stop()


def request(app, method, path, *, host=None, body=None, headers=None, source="127.0.0.1"):
    conn = http.client.HTTPConnection("127.0.0.2", app.port, timeout=30, source_address=(source, 0))
    hdrs = {"Host": host or f"127.0.0.2:{app.port}", **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    return resp, (json.loads(raw) if raw and resp.getheader("Content-Type", "").startswith("application/json") else raw)


def test_listens_on_the_given_address_only(server):
    assert server.base == f"http://127.0.0.2:{server.port}"
    assert SECRET not in server.log and SECRET[:8] not in server.log  # a secret the user set is never printed
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=5).close()


def test_what_is_refused_and_what_works(server):
    auth = {"X-Workbench-Token": SECRET}
    resp, body = request(server, "GET", "/api/health", headers=auth)
    assert resp.status == 200 and body["server_mode"] is True and body["window"] is False
    resp, _ = request(server, "GET", "/api/health", host=f"{ALLOWED}:8443", headers=auth)
    assert resp.status == 200
    resp, body = request(server, "GET", "/api/health", host="rebound.attacker.example", headers=auth)
    assert resp.status == 403 and body["error"]["code"] == "bad_host"
    resp, body = request(server, "GET", "/api/health")
    assert resp.status == 401 and body["error"]["code"] == "unauthorized"
    resp, body = request(server, "GET", "/api/files/list?path=/etc", headers=auth)
    assert resp.status == 403 and body["error"]["code"] == "path_outside_roots"
    resp, body = request(server, "POST", "/api/app/open-folder", body={"folder": "data"}, headers=auth)
    assert resp.status == 409 and body["error"]["code"] == "no_desktop"
    # the UI itself loads without the secret: it shows the login page
    resp, html = request(server, "GET", "/")
    assert resp.status == 200 and b"<script" in html


def test_login_and_brute_force_limit_per_source_address(server):
    for i in range(MAX_FAILURES):
        resp, _ = request(server, "POST", "/auth/login", body={"secret": f"guess-{i}"}, source="127.0.0.3")
        assert resp.status == 401
    resp, body = request(server, "POST", "/auth/login", body={"secret": SECRET}, source="127.0.0.3")
    assert resp.status == 429 and body["error"]["code"] == "too_many_attempts"
    resp, _ = request(server, "POST", "/auth/login", body={"secret": SECRET}, source="127.0.0.4")
    assert resp.status == 200
    cookie = resp.getheader("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    resp, _ = request(server, "GET", "/api/settings", headers={"Cookie": cookie.split(";")[0]}, source="127.0.0.4")
    assert resp.status == 200


def test_short_secret_refuses_to_start(tmp_path):
    app = LiveApp(tmp_path / "data", env={**ENV, "LORA_WORKBENCH_TOKEN": "short-secret"},
                  extra_args=["--listen", "127.0.0.2"])
    assert app.proc.wait(60) == 2
    app.stop()
    assert "at least 32 characters" in app.log


def test_upload_resumed_after_a_dropped_connection_is_exact(server):
    """A chunk whose connection drops half way: the server keeps what arrived, says where it stands,
    and the rest sent from there gives the exact file."""
    from tests.live import wait_for

    auth = {"X-Workbench-Token": SECRET}
    blob = os.urandom(6 * (1 << 20) + 123)
    resp, body = request(server, "POST", "/api/uploads", headers=auth,
                         body={"name": "big.safetensors", "size": len(blob), "purpose": "model"})
    assert resp.status == 201, body
    uid = body["id"]
    # one request for the whole file, cut off after 3.5 MB: the socket is closed mid-body
    sock = socket.create_connection(("127.0.0.2", server.port), timeout=30)
    head = (f"PUT /api/uploads/{uid} HTTP/1.1\r\nHost: 127.0.0.2:{server.port}\r\nX-Workbench-Token: {SECRET}\r\n"
            f"Content-Range: bytes 0-{len(blob) - 1}/{len(blob)}\r\nContent-Length: {len(blob)}\r\n\r\n")
    sent = 3 * (1 << 20) + (1 << 19)
    sock.sendall(head.encode() + blob[:sent])
    sock.close()

    def go_on():
        """What the UI's client does: ask the offset, send the rest from there (busy: the server is
        still reading the dropped request; ask again)."""
        _, st = request(server, "GET", f"/api/uploads/{uid}", headers=auth)
        offset = st["offset"]
        conn = http.client.HTTPConnection("127.0.0.2", server.port, timeout=60)
        conn.request("PUT", f"/api/uploads/{uid}", body=blob[offset:],
                     headers={**auth, "Content-Range": f"bytes {offset}-{len(blob) - 1}/{len(blob)}"})
        r = conn.getresponse()
        out = json.loads(r.read())
        conn.close()
        return (offset, out) if r.status == 200 else None

    offset, done = wait_for(go_on, timeout=30)
    assert 2 * (1 << 20) <= offset <= sent  # whole blocks that arrived were kept
    assert done["done"] is True
    with open(done["result"]["path"], "rb") as f:
        assert f.read() == blob
