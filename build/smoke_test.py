"""Start a built executable headless, check /api/health and that the UI loads; exit non-zero if not.

    python build/smoke_test.py build/dist/LoRA-Workbench[.exe] [--portable] [--window-fallback] [--window]

--portable: run it from a fresh folder without --data-dir and check it keeps its data in `data/`
beside itself. --window-fallback: start without --headless where no web view can open and check
it says so and serves anyway. --window: start it with its window (a desktop with a web view is
needed: WebView2 on Windows) and check the window opened with a usable engine and closes cleanly.

The URL is read from what the program prints or, since the Windows executable is a windowed program
that may have nowhere to print, from the `instance.json` it writes into its data folder. It is stopped
the way its window's close button would (POST /api/app/quit), which also ends the one-file
executable's unpacked child process (killing the bootloader alone would leave that running).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

URL_RE = re.compile(r"running at (http://127\.0\.0\.1:(\d+)/\?token=(\S+))")


def start(argv, cwd, data: Path, env=None):
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            encoding="utf-8", errors="replace", env=env)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for line in [*lines, "running at " + _instance_url(data)]:
            m = URL_RE.search(line)
            if m:
                return proc, lines, m
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    stop_tree(proc)
    raise SystemExit("executable did not start:\n" + "".join(lines) + app_log(data))


def _instance_url(data: Path) -> str:
    try:
        return json.loads((data / "instance.json").read_text(encoding="utf-8"))["url"]
    except (OSError, ValueError, KeyError):
        return ""


def app_log(data: Path) -> str:
    try:
        return (data / "logs" / "app.log").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def stop_tree(proc) -> None:
    import psutil

    try:
        procs = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.Error:
        return
    for p in procs:
        try:
            p.kill()
        except psutil.Error:
            pass
    proc.wait(20)


def post(url, token):
    req = urllib.request.Request(url, data=b"{}", method="POST",
                                 headers={"X-Workbench-Token": token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=20) as resp:
        return json.loads(resp.read())


def wait_for(what: str, check, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def get(url, token=None):
    headers = {"X-Workbench-Token": token} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=20) as resp:
        return resp.status, resp.read()


def check(exe: Path, portable: bool, window_fallback: bool, window: bool = False) -> None:
    work = Path(tempfile.mkdtemp(prefix="lw-smoke-"))
    data = work / "data"
    argv = [str(exe)]
    if portable:
        local = work / exe.name
        shutil.copy2(exe, local)
        argv = [str(local)]
    else:
        argv += ["--data-dir", str(work / "data")]
    if not (window_fallback or window):
        argv.append("--headless")
    env = None
    if window_fallback:
        import os

        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env["BROWSER"] = "true"  # the fallback opens the system browser: make that a no-op here
    proc, lines, m = start(argv, cwd=work, data=data, env=env)
    url, port, token = m.group(1), m.group(2), m.group(3)
    base = f"http://127.0.0.1:{port}"
    try:
        status, body = get(base + "/api/health", token)
        health = json.loads(body)
        assert status == 200 and health["status"] == "ok", health
        print(f"health: version {health['version']} built {health['built_at']}, data dir {health['data_dir']}")
        assert health["built_at"], "the build time was not stamped into the executable"
        if portable:
            assert Path(health["data_dir"]) == (work / "data").resolve(), health["data_dir"]
            assert (work / "data" / "workbench.db").is_file()
        status, html = get(url)
        assert status == 200 and b'<div id="app">' in html, html[:300]
        for asset in re.findall(rb'src="(/assets/[^"]+\.js)"', html):
            status, js = get(base + asset.decode())
            assert status == 200 and len(js) > 10_000, asset
        status, _ = get(base + "/api/settings", token)
        assert status == 200
        try:
            get(base + "/api/settings")
            raise AssertionError("API answered without the launch secret")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
        if window_fallback:
            wait_for("the browser fallback notice",
                     lambda: "running in the browser instead" in "".join(lines) + app_log(data), 30)
        if window:
            def window_open():
                return json.loads(get(base + "/api/health", token)[1])["window"]

            wait_for("the window", window_open)
            log_text = app_log(data)
            engine = re.search(r"Window engine: (\S+)", log_text)
            assert engine, log_text
            # Windows: pywebview's silent fallback (the IE engine) would be refused a moment later.
            assert sys.platform != "win32" or engine.group(1) == "edgechromium", log_text
            assert "running in the browser instead" not in "".join(lines) + log_text, log_text
            print(f"window open, engine {engine.group(1)}")
        print("UI and API OK")
        assert post(base + "/api/app/quit", token) == {"quitting": True}
        code = proc.wait(60)
        assert code == 0, f"exit code {code}:\n" + "".join(lines) + app_log(data)
        print("stopped cleanly")
    finally:
        if proc.poll() is None:
            stop_tree(proc)
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("exe", type=Path)
    p.add_argument("--portable", action="store_true")
    p.add_argument("--window-fallback", action="store_true")
    p.add_argument("--window", action="store_true")
    args = p.parse_args()
    check(args.exe.resolve(), args.portable, args.window_fallback, args.window)
    return 0


if __name__ == "__main__":
    sys.exit(main())
