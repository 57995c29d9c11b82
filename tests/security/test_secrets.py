"""The tagging API key is never stored anywhere but the settings, never logged, never echoed in full:
not by the settings API, not in job results/errors/params, not in websocket events, not in any file the
app writes (logs, job rows, caches), whatever a remote server answers."""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
from http.server import BaseHTTPRequestHandler

import pytest

from server.tagging import http_client
from server.tagging.base import ItemError
from server.tagging.openai_api import answer_text
from tests.local_http import LocalHTTPServer

KEY = "sk-WBSEC-" + secrets.token_hex(16)


class EchoServer(LocalHTTPServer):
    """An OpenAI-compatible server that answers from `mode` and quotes the Authorization header back,
    the way a careless proxy or a debugging server would."""

    def __init__(self):
        self.mode = "ok"
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                auth = self.headers.get("Authorization", "")
                key = auth.removeprefix("Bearer ")
                status, body = outer.answer(auth, key)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        super().__init__(Handler)
        self.start()

    def answer(self, auth: str, key: str):
        pad = "x" * (300 - 12)  # puts the key across the 300-character cut of an error message
        if self.mode == "401":
            return 401, {"error": {"message": f"Incorrect API key provided: {key}. Header was {auth!r}"}}
        if self.mode == "403-cut":
            return 403, {"error": {"message": f"{pad}{key} is not allowed"}}
        if self.mode == "text-500":
            return 500, (("y" * 190) + f" bad key {key} in header {auth}").encode()
        if self.mode == "200-error":
            return 200, {"error": {"message": ("z" * 490) + key}}
        if self.mode == "200-text":
            return 200, (("w" * 190) + key).encode()
        if self.mode.startswith("echo:"):  # a piece of the key, e.g. "echo:0:12" quotes key[0:12]
            start, end = map(int, self.mode.split(":")[1:])
            return 401, {"error": {"message": f"Incorrect API key provided: {key[start:end]}****{key[-4:]}."}}
        return 200, {"choices": [{"message": {"content": "a red square"}, "finish_reason": "stop"}]}

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"


@pytest.fixture
def echo():
    server = EchoServer()
    yield server
    server.close()


@pytest.fixture
def app_log(svc):
    """What the launcher does: every log record of the app goes to <data>/logs/app.log."""
    handler = logging.FileHandler(svc.layout.logs / "app.log", encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield svc.layout.logs / "app.log"
    root.removeHandler(handler)
    root.setLevel(old)
    handler.close()


def _leaks(text: str, key: str = KEY) -> bool:
    # Any 12-character piece of the key's secret part counts as a leak (a cut key is still a key).
    secret = key.strip()[len("sk-WBSEC-"):]
    return any(secret[i:i + 12] in text for i in range(0, len(secret) - 11))


def test_key_never_leaves_the_settings(api, svc, echo, app_log):
    events = svc.bus.subscription()
    events.subscribe("*")
    answers: list[str] = []

    def call(method, path, **kw):
        resp = getattr(api, method)(path, **kw)
        answers.append(resp.get_data(as_text=True))
        return resp

    # A pasted key often ends in a space or a line break: the server sees it stripped.
    saved = call("patch", "/api/settings", json={
        "tagging_api_key": KEY + " \n", "tagging_api_base_url": echo.base_url, "tagging_api_preset": "custom",
        "tagging_api_model": "m", "tagging_api_max_retries": 0, "tagging_api_timeout": 5})
    assert saved.status_code == 200, saved.get_json()
    masked = saved.get_json()["settings"]["tagging_api_key"]
    assert masked.startswith("•") and not _leaks(masked)
    # The settings form sends back what it was shown: the saved key must survive that.
    assert call("patch", "/api/settings", json={"tagging_api_key": masked, "theme": "dark"}).status_code == 200
    assert svc.store.get_setting("tagging_api_key") == KEY + " \n"

    outcomes = {}
    for mode in ("401", "403-cut", "text-500", "200-error", "200-text", "ok"):
        echo.mode = mode
        started = call("post", "/api/tagging/test", json={"backend": "openai_api"})
        assert started.status_code == 202, started.get_json()
        job = svc.jobs.wait(started.get_json()["job"]["id"], timeout=30)
        answers.append(json.dumps(job))
        outcomes[mode] = job["result"]
    # Masked key given as an option override ("keep the saved key") still works.
    started = call("post", "/api/tagging/test", json={"backend": "openai_api", "options": {"api_key": masked}})
    answers.append(json.dumps(svc.jobs.wait(started.get_json()["job"]["id"], timeout=30)))
    # An unreachable server, and a key given only for this test.
    call("patch", "/api/settings", json={"tagging_api_base_url": "http://127.0.0.1:9/v1"})
    started = call("post", "/api/tagging/test", json={"backend": "openai_api", "options": {"api_key": KEY}})
    answers.append(json.dumps(svc.jobs.wait(started.get_json()["job"]["id"], timeout=30)))

    assert outcomes["ok"]["ok"] is True and outcomes["ok"]["caption"] == "a red square"
    assert outcomes["401"]["ok"] is False and outcomes["401"]["error"]["code"] == "unauthorized"
    assert "Incorrect API key provided" in outcomes["401"]["error"]["message"]

    for path in ("/api/settings", "/api/jobs", "/api/tagging/backends", "/api/health", "/api/runtime"):
        call("get", path)
    for text in answers:
        assert not _leaks(text), text[:2000]

    while (event := events.get(timeout=0)) is not None:
        assert not _leaks(json.dumps(event, default=str)), event

    # Every file the app wrote: logs, caches, and every table of the database except the settings.
    for path in svc.layout.root.rglob("*"):
        if path.is_file() and not path.name.startswith("workbench.db"):
            assert not _leaks(path.read_bytes().decode("utf-8", "replace")), path
    con = sqlite3.connect(svc.layout.database)
    try:
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            rows = con.execute(f'SELECT * FROM "{table}"').fetchall()
            if table == "settings":
                rows = [r for r in rows if "tagging_api_key" not in r]
            assert not _leaks(json.dumps(rows, default=str)), table
    finally:
        con.close()
    assert app_log.is_file()


@pytest.mark.parametrize("answer", [
    {"error": {"message": "q" * 495 + KEY}},
    {"error": "q" * 495 + KEY},
    [{"error": {"message": "q" * 495 + KEY}}],
])
def test_quoted_key_is_masked_before_the_message_is_cut(answer):
    with pytest.raises(ItemError) as err:
        answer_text(answer, KEY)
    assert not _leaks(err.value.message)
    failure = http_client._failure(400, json.dumps(answer).encode(), KEY, 0)
    assert not _leaks(failure.message)


def test_a_key_with_surrounding_whitespace_is_masked_as_sent():
    assert not _leaks(http_client.mask_in(f"bad key {KEY}", KEY + "\n"))
    assert not _leaks(http_client.mask_in(f"bad key {KEY} ", " " + KEY))


PIECES = [(0, 12), (0, 6), (9, 17), (20, 41), (3, 30)]   # OpenAI quotes a prefix; others cut or quote a middle


def test_partial_echoes_of_the_key_are_masked(api, svc, echo):
    """A server that quotes a piece of the key (a prefix like `sk-WBSEC-01…`, or a cut) must not get
    that piece stored in job results or published in events."""
    events = svc.bus.subscription()
    events.subscribe("*")
    assert api.patch("/api/settings", json={
        "tagging_api_key": KEY, "tagging_api_base_url": echo.base_url, "tagging_api_preset": "custom",
        "tagging_api_model": "m", "tagging_api_max_retries": 0, "tagging_api_timeout": 5}).status_code == 200
    seen = []
    for start, end in PIECES:
        echo.mode = f"echo:{start}:{end}"
        job = svc.jobs.wait(api.post("/api/tagging/test", json={"backend": "openai_api"}).get_json()["job"]["id"],
                            timeout=30)
        assert job["result"]["error"]["code"] == "unauthorized"
        assert "Incorrect API key provided" in job["result"]["error"]["message"]
        seen.append((KEY[start:end], json.dumps(job, ensure_ascii=False)))
    seen.append(("", api.get("/api/jobs").get_data(as_text=True)))
    while (event := events.get(timeout=0)) is not None:
        seen.append(("", json.dumps(event, default=str, ensure_ascii=False)))
    rows = sqlite3.connect(svc.layout.database)
    try:
        seen.append(("", json.dumps(rows.execute("SELECT * FROM jobs").fetchall(), ensure_ascii=False)))
    finally:
        rows.close()
    for piece, _ in seen[:len(PIECES)]:
        for _, text in seen:
            assert piece not in text, (piece, text[:600])


def test_mask_in_masks_runs_of_the_key_and_nothing_else():
    key = "sk-abcdef0123456789"
    assert http_client.mask_in(f"got {key[:6]}… and {key[4:15]}", key) == "got ••••••… and ••••••"
    assert http_client.mask_in(f"key={key}", key) == "key=••••••6789"
    # A run of ECHO_MIN (6) characters is masked; shorter runs and merely similar text stay as they are.
    assert http_client.mask_in("sk-abc is a prefix; sk-ab too", key) == "•••••• is a prefix; sk-ab too"
    assert http_client.mask_in("nothing here, abcdeX", key) == "nothing here, abcdeX"
