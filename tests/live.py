"""Start the real launcher in a subprocess (headless or windowed) and find its URL.

Browser and window tests use this so they exercise exactly what a user runs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
URL_RE = re.compile(r"running at (http://127\.0\.0\.1:(\d+)/\?token=(\S+))")
# Server mode (--listen ADDR): the secret is the one the test set (LORA_WORKBENCH_TOKEN), never printed.
SERVER_RE = re.compile(r"\(server mode\) is listening on (\S+) port (\d+)")


class LiveApp:
    def __init__(self, data_dir: Path, *, headless: bool = True, env: dict | None = None, extra_args=()):
        self.data_dir = Path(data_dir)
        args = [sys.executable, "-u", str(ROOT / "launcher.py"), "--data-dir", str(self.data_dir), *extra_args]
        if headless:
            args.append("--headless")
        self.output: list[str] = []
        self.env = dict(env or {})
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     encoding="utf-8", env={**os.environ, **(env or {})})
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = self.base = self.token = None
        self.port = None

    def _read(self):
        for line in self.proc.stdout:
            self.output.append(line)

    def wait_ready(self, timeout: float = 30) -> "LiveApp":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.output):
                m = URL_RE.search(line)
                if m:
                    self.url, self.port, self.token = m.group(1), int(m.group(2)), m.group(3)
                    self.base = f"http://127.0.0.1:{self.port}"
                    return self
                m = SERVER_RE.search(line)
                if m:
                    self.port, self.token = int(m.group(2)), self.env.get("LORA_WORKBENCH_TOKEN")
                    self.base = f"http://{m.group(1)}:{self.port}"
                    self.url = self.base + "/"
                    return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("launcher did not start:\n" + "".join(self.output))

    def stop(self, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(2)
        return self.proc.returncode

    @property
    def log(self) -> str:
        return "".join(self.output)

    def call(self, method: str, path: str, body=None, timeout: float = 60):
        """One API request with the launch secret, as the UI makes it; returns the decoded JSON."""
        req = urllib.request.Request(self.base + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"X-Workbench-Token": self.token, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read() or b"null")


def wait_for(fn, timeout: float = 20.0, what: str = "the condition", *, interval: float = 0.1):
    """Poll `fn` until it returns something truthy and return that; after `timeout` seconds fail with
    `what` was waited for and the last value. The one deadline wait of tests and benchmarks."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value: {last!r})")
