"""The app's own log: `<data>/logs/app.log` (rotating), and a home for print() without a console.

The Windows executable is a windowed program: it has no console, so `sys.stdout` / `sys.stderr`
are None (as under pythonw). A library that writes to them directly would raise AttributeError,
and what they say would be lost. `ensure_streams()` puts stand-ins there that turn each line into
a log record, so it lands in app.log with everything else. Settings > "Open log folder" shows the
folder; `--console` (Windows) opens a console that shows the same lines live (server/system/startup.py).
"""

from __future__ import annotations

import io
import logging
import re
import sys
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_NAME = "app.log"
MAX_BYTES = 2_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The launch secret in a printed URL: a log file gets attached to bug reports, the secret must not.
_SECRET = re.compile(r"(token=)[^\s&]+")


class LogStream(io.TextIOBase):
    """A text stream that logs each complete line (`logger` at `level`); a partial line waits for its end."""

    def __init__(self, name: str, level: int):
        self._log = logging.getLogger(name)
        self._level = level
        self._buf = ""
        self._lock = threading.Lock()
        self._busy = threading.local()  # a handler writing back here (logging's last resort) must not loop

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if getattr(self._busy, "on", False):
            return len(text)
        with self._lock:
            self._buf += text
            *lines, self._buf = self._buf.split("\n")
        self._busy.on = True
        try:
            for line in lines:
                if line.strip():
                    self._log.log(self._level, _SECRET.sub(r"\1***", line.rstrip("\r")))
        finally:
            self._busy.on = False
        return len(text)

    def flush(self) -> None:
        pass


class ConsoleTee(io.TextIOBase):
    """A console opened late (`--console`) shows what is written; the LogStream under it still logs it."""

    def __init__(self, console, log_stream: LogStream):
        self.console, self._log = console, log_stream

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        try:
            self.console.write(text)
        except (OSError, ValueError):  # the console was closed: the log goes on
            pass
        return self._log.write(text)

    def flush(self) -> None:
        try:
            self.console.flush()
        except (OSError, ValueError):
            pass


def ensure_streams() -> bool:
    """Give a missing stdout/stderr a LogStream; True when there was a real console stream."""
    had_console = sys.stderr is not None and not isinstance(sys.stderr, LogStream)
    if sys.stdout is None:
        sys.stdout = LogStream("stdout", logging.INFO)
    if sys.stderr is None:
        sys.stderr = LogStream("stderr", logging.WARNING)
    return had_console


def setup(logs_dir: Path, *, debug: bool = False) -> Path:
    """Log to `<logs_dir>/app.log`, and to stderr too when that is a real stream. Returns the log file."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    path = logs_dir / LOG_NAME
    handlers: list[logging.Handler] = [RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                           encoding="utf-8", delay=False)]
    # Records also go to a real console; one behind a ConsoleTee gets them directly (through the tee,
    # its LogStream would log each of them a second time).
    console = getattr(sys.stderr, "console", sys.stderr)
    if console is not None and not isinstance(console, LogStream):
        handlers.append(logging.StreamHandler(console))
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, handlers=handlers, format=FORMAT,
                        force=True)
    return path
