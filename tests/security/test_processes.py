"""Commands are argv lists (never a shell), and every process the app starts is stopped with its whole tree."""

from __future__ import annotations

import ast
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from server.paths import DataLayout
from server.runtime import procs
from server.tagging.base import Item
from server.tagging.config import build_options
from server.tagging.musubi_cli import SCRIPT
from server.tagging.musubi_qwen_vl import MusubiQwenVLBackend, QwenOptions

ROOT = Path(__file__).resolve().parents[2]
SPAWNERS = {"Popen", "run", "call", "check_call", "check_output", "getoutput", "getstatusoutput"}

# A process that starts a grandchild (as accelerate and CUDA workers do), records its pid, then waits.
TREE_SCRIPT = """
import subprocess, sys, time, pathlib
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
pathlib.Path({pidfile!r}).write_text(str(child.pid))
time.sleep(120)
"""


def _py_files():
    yield ROOT / "launcher.py"
    yield from (ROOT / "server").rglob("*.py")


def test_no_shell_strings_anywhere():
    problems = []
    for path in _py_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            owner = getattr(node.func.value, "id", "") if isinstance(node.func, ast.Attribute) else ""
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if owner == "os" and name in ("system", "popen") or name in ("getoutput", "getstatusoutput"):
                problems.append(f"{where} os.{name}")
            if any(k.arg == "shell" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                   for k in node.keywords):
                problems.append(f"{where} shell=")
            if owner == "subprocess" and name in SPAWNERS and node.args and \
                    isinstance(node.args[0], (ast.Constant, ast.JoinedStr, ast.BinOp)):
                problems.append(f"{where} subprocess.{name} with a string command")
    assert problems == []


def _wait_for_pid(pidfile: Path, timeout: float = 10) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pidfile.is_file() and pidfile.read_text().strip():
            return int(pidfile.read_text())
        time.sleep(0.05)
    raise AssertionError("the process never started its child")


def _gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def test_runtime_commands_are_stopped_with_their_tree(tmp_path):
    pidfile = tmp_path / "child.pid"
    cancel = threading.Event()
    out: dict = {}

    def run():
        try:
            procs.stream([sys.executable, "-c", TREE_SCRIPT.format(pidfile=str(pidfile))], lambda _t: None,
                         cancelled=cancel.is_set)
        except procs.Cancelled:
            out["cancelled"] = True

    thread = threading.Thread(target=run)
    thread.start()
    child = _wait_for_pid(pidfile)
    cancel.set()
    thread.join(20)
    assert out.get("cancelled") and _gone(child)


def test_runtime_capture_timeout_stops_the_tree(tmp_path):
    pidfile = tmp_path / "child.pid"
    res = procs.capture([sys.executable, "-c", TREE_SCRIPT.format(pidfile=str(pidfile))], timeout=2)
    assert res.timed_out
    assert _gone(_wait_for_pid(pidfile))


@pytest.mark.parametrize("how", ["stop", "close"])
def test_musubi_captioning_is_stopped_with_its_tree(tmp_path, how):
    pidfile = tmp_path / "child.pid"
    musubi = tmp_path / "musubi-tuner"
    (musubi / SCRIPT).parent.mkdir(parents=True)
    (musubi / SCRIPT).write_text(TREE_SCRIPT.format(pidfile=str(pidfile)), encoding="utf-8")
    model = tmp_path / "qwen.safetensors"
    model.write_bytes(b"x")
    image = tmp_path / "a.png"
    from .conftest import png_bytes

    image.write_bytes(png_bytes())
    opts = build_options(QwenOptions, None, {"musubi_dir": str(musubi), "musubi_python": sys.executable,
                                             "model_path": str(model)})
    backend = MusubiQwenVLBackend(opts, layout=DataLayout(tmp_path / "data").ensure())
    results: list = []
    thread = threading.Thread(target=lambda: results.extend(backend.caption_many([Item.from_path(image)])))
    thread.start()
    child = _wait_for_pid(pidfile)
    script_pid = backend.process.pid
    getattr(backend, how)()
    thread.join(30)
    assert not thread.is_alive()
    assert _gone(script_pid) and _gone(child)
