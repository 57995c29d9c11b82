"""The launcher as the windowed Windows executable runs it: no console streams, a data folder it may
not be able to write, a web engine that cannot show the UI."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import types
import urllib.request
from pathlib import Path

import pytest

import launcher
from server import paths
from server.system import applog, webview_engine
from tests.live import wait_for

ROOT = Path(__file__).resolve().parents[2]


def _without_console(argv: list[str]) -> list[str]:
    """Start `python argv` the way a windowed program starts: no stdout, no stderr (sys.stdout is None)."""
    if sys.platform == "win32":
        return [str(Path(sys.executable).with_name("pythonw.exe")), *argv]
    return [sys.executable, "-c", "import os, sys; os.close(1); os.close(2); "
            f"os.execv(sys.executable, [sys.executable, *{argv!r}])"]


def _read(path: Path) -> str:
    """The file's text, or "" while it is missing or (Windows) being replaced."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _post(base: str, token: str, path: str) -> dict:
    req = urllib.request.Request(base + path, data=b"{}", method="POST",
                                 headers={"X-Workbench-Token": token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=20) as resp:
        return json.loads(resp.read())


def test_without_a_console_output_goes_to_the_log(tmp_path):
    data = tmp_path / "data"
    proc = subprocess.Popen(_without_console([str(ROOT / "launcher.py"), "--headless", "--data-dir", str(data)]),
                            cwd=ROOT, env={**os.environ, "LORA_WORKBENCH_GPU_PROVIDER": "none"})
    try:
        info = wait_for(lambda: _read(data / "instance.json") and json.loads(_read(data / "instance.json")), timeout=60)
        log_file = data / "logs" / "app.log"
        text = wait_for(lambda: "is running at" in _read(log_file) and _read(log_file), timeout=20)
        assert info["token"] not in text and "token=***" in text  # the secret stays out of the log
        assert _post(f"http://127.0.0.1:{info['port']}", info["token"], "/api/app/quit") == {"quitting": True}
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert "LoRA Workbench stopped." in log_file.read_text(encoding="utf-8")


def test_a_data_folder_that_cannot_be_written_is_refused_clearly(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    res = subprocess.run([sys.executable, str(ROOT / "launcher.py"), "--headless", "--data-dir", str(blocker / "data")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, res.stderr
    assert "Cannot write to the data folder" in res.stderr and "Traceback" not in res.stderr


def test_portable_folder_not_writable_falls_back_to_the_user_folder(tmp_path, monkeypatch):
    """The executable in Program Files: `data/` beside it cannot be made; the per-user folder is used."""
    blocker = tmp_path / "Program Files"
    blocker.write_text("")  # a file where the program's folder would be: nothing can be created under it
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(paths, "program_dir", lambda: blocker / "LoRA Workbench")
    monkeypatch.setattr(paths, "user_data_dir", lambda: tmp_path / "AppData" / "LoRA Workbench")
    chosen, unwritable = paths.choose_data_dir()
    assert chosen == (tmp_path / "AppData" / "LoRA Workbench").resolve()
    assert unwritable == (blocker / "LoRA Workbench" / "data").resolve()
    # writable beside the program: the portable folder, no note
    monkeypatch.setattr(paths, "program_dir", lambda: tmp_path / "Portable")
    assert paths.choose_data_dir() == ((tmp_path / "Portable" / "data").resolve(), None)
    # a folder the user chose is never swapped for another
    assert paths.choose_data_dir(blocker / "x") == ((blocker / "x").resolve(), None)


def test_health_says_when_the_data_folder_fell_back(api, svc):
    assert api.get("/api/health").get_json()["data_dir_fallback"] is None
    svc.data_dir_fallback = "C:\\Program Files\\LoRA Workbench\\data"
    assert api.get("/api/health").get_json()["data_dir_fallback"] == "C:\\Program Files\\LoRA Workbench\\data"


def test_log_stream_keeps_lines_and_hides_the_secret(tmp_path):
    stream = applog.LogStream("test.applog", logging.INFO)
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    log = logging.getLogger("test.applog")
    handler = Keep()
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        print("half a ", end="", file=stream)
        assert records == []
        print("line\nrunning at http://127.0.0.1:1/?token=s3cret&x=1", file=stream)
    finally:
        log.removeHandler(handler)
    assert records == ["half a line", "running at http://127.0.0.1:1/?token=***&x=1"]


class FakeWebview(types.ModuleType):
    """pywebview's start() as 6.2 runs it: `events.initialized` fires with the renderer before the window
    is made, and a handler returning False cancels it (webview/__init__.py start, window.py _initialize)."""

    def __init__(self, renderer: str):
        super().__init__("webview")
        from webview.event import Event

        self.renderer, self.settings, self.started, self.shown = renderer, {}, [], False
        self._Event = Event

    def create_window(self, *a, **kw):
        names = ("resized", "moved", "maximized", "restored", "closing", "initialized", "shown")
        self.window = types.SimpleNamespace(events=types.SimpleNamespace(
            **{n: self._Event(None, n == "initialized") for n in names}))
        return self.window

    def start(self, **kw):
        self.started.append(kw)
        if self.window.events.initialized.set(self.renderer):
            return
        self.shown = True


@pytest.mark.parametrize("platform,renderer,usable", [
    ("win32", "edgechromium", True), ("win32", "mshtml", False), ("win32", "cef", False),
    ("linux", "qtwebengine", True), ("linux", "gtkwebkit2", True), ("linux", "qtwebkit", False),
])
def test_window_only_with_an_engine_that_runs_the_ui(platform, renderer, usable, svc, tmp_path, monkeypatch):
    fake = FakeWebview(renderer)
    monkeypatch.setitem(sys.modules, "webview", fake)
    monkeypatch.setattr(webview_engine, "sys", types.SimpleNamespace(platform=platform))
    window = launcher._make_window("http://127.0.0.1:1/", tmp_path / "data")
    started = launcher._Starting(lambda: svc)
    started.run()
    svc.window = window
    assert launcher._show_window(window, started, False, tmp_path / "data") is usable
    assert fake.shown is usable and svc.window is None
    # the web view's profile is kept in the data folder, not in %APPDATA%
    assert fake.started[0]["storage_path"] == str(tmp_path / "data" / "webview")
    assert fake.started[0]["private_mode"] is False


def test_a_late_console_shows_the_output_and_the_log_still_keeps_it(tmp_path):
    """`--console` on the windowed executable: what open_console() does once the console is there,
    played with a text buffer for the console (CONOUT$ is Windows')."""
    code = (
        "import io, logging, sys\n"
        "from pathlib import Path\n"
        "from server.system import applog\n"
        "sys.stdout = sys.stderr = None\n"          # the windowed executable
        "applog.ensure_streams()\n"
        "console = io.StringIO()\n"
        "sys.stdout = applog.ConsoleTee(console, sys.stdout)\n"
        "sys.stderr = applog.ConsoleTee(console, sys.stderr)\n"
        "applog.setup(Path(sys.argv[1]))\n"
        "print('running at http://127.0.0.1:1/?token=abc')\n"
        "logging.getLogger('t').warning('careful')\n"
        "Path(sys.argv[2]).write_text(console.getvalue(), encoding='utf-8')\n"
    )
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path / "logs"), str(tmp_path / "console.txt")],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    console = (tmp_path / "console.txt").read_text(encoding="utf-8")
    log = (tmp_path / "logs" / "app.log").read_text(encoding="utf-8")
    assert "token=abc" in console and console.count("careful") == 1
    assert "token=***" in log and "abc" not in log and log.count("careful") == 1
