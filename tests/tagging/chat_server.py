"""A stand-in OpenAI-compatible chat-completions server on 127.0.0.1 for the API backend's tests.

Answers come from a script: a list of (status, body, headers) popped per request; when the
script is empty it answers with a caption. Every request is recorded (path, headers, JSON body)
so tests can check what the backend sent.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler

from tests.local_http import LocalHTTPServer


class ChatServer(LocalHTTPServer):
    def __init__(self, caption: str = "a red circle above green grass", delay: float = 0.0):
        self.caption = caption
        self.delay = delay
        self.script: list[tuple[int, object, dict]] = []
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with server.lock:
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                    server.requests.append({"path": self.path, "headers": dict(self.headers),
                                            "body": json.loads(raw), "at": time.monotonic()})
                    step = server.script.pop(0) if server.script else None
                try:
                    time.sleep(server.delay)
                    status, body, headers = step or (200, server.answer(), {})
                    data = body if isinstance(body, bytes) else json.dumps(body).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    with server.lock:
                        server.active -= 1

        super().__init__(Handler)

    def answer(self, text: str | None = None) -> dict:
        return {"id": "chatcmpl-1", "object": "chat.completion", "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text or self.caption}}]}

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"
