"""Running external commands: argv lists only, never a shell; every process tree can be stopped."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass

import psutil

from ..system.children import popen_flags
from ..training import proctree

_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<cred>[^/@\s:]+(:[^/@\s]*)?)@")


def redact(text: str) -> str:
    """Hide user:password@ / token@ in URLs (a mirror URL may carry credentials)."""
    return _CREDENTIALS.sub(lambda m: m.group("scheme") + "***@", text)


def quiet_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update({"PYTHONIOENCODING": "utf-8", "PYTHONUTF8": "1", "PYTHONUNBUFFERED": "1",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1", "GIT_TERMINAL_PROMPT": "0"})
    # A PYTHONPATH / PYTHONHOME of the app's own environment must not leak into another interpreter.
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "__PYVENV_LAUNCHER__"):
        env.pop(key, None)
    env.update(extra or {})
    return env


@dataclass
class Result:
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.error


def capture(argv: list[str], *, timeout: float = 20, cwd=None, env: dict | None = None) -> Result:
    """Run and collect output; on timeout the whole process tree is ended."""
    try:
        proc = subprocess.Popen([str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, cwd=cwd, env=env or quiet_env(),
                                **popen_flags())
    except OSError as exc:
        return Result(None, "", "", error=f"{type(exc).__name__}: {exc}")
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        out, err = proc.communicate()
        return Result(proc.returncode, _text(out), _text(err), timed_out=True)
    return Result(proc.returncode, _text(out), _text(err))


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def _stop(proc: subprocess.Popen, timeout: float = 5) -> None:
    try:
        proctree.stop_tree(psutil.Process(proc.pid), timeout)
    except psutil.Error:
        pass


class Cancelled(Exception):
    pass


def stream(argv: list[str], on_output, *, cancelled, cwd=None, env: dict | None = None,
           poll: float = 0.1) -> int:
    """Run `argv`, feeding its output (stdout+stderr, decoded, `\\r` kept for progress bars) to
    `on_output(text)` as it comes. `cancelled()` is polled; when it turns true the process tree is
    ended and Cancelled raised. Returns the exit code."""
    proc = subprocess.Popen([str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, cwd=cwd, env=env or quiet_env(), **popen_flags())

    def pump():
        import codecs

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            chunk = proc.stdout.read1(65536) if hasattr(proc.stdout, "read1") else proc.stdout.read(4096)
            if not chunk:
                break
            text = decoder.decode(chunk)
            if text:
                on_output(text)
        tail = decoder.decode(b"", final=True)
        if tail:
            on_output(tail)

    reader = threading.Thread(target=pump, name="proc-output", daemon=True)
    reader.start()
    try:
        while proc.poll() is None:
            if cancelled():
                _stop(proc)
                raise Cancelled()
            time.sleep(poll)
    finally:
        reader.join(5)
        if proc.stdout:
            proc.stdout.close()
    return proc.returncode
