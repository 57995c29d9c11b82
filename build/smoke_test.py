"""Start a built executable headless, check /api/health and that the UI loads; exit non-zero if not.

    python build/smoke_test.py build/dist/LoRA-Workbench[.exe] [--portable] [--window-fallback]

--portable: run it from a fresh folder without --data-dir and check it keeps its data in `data/`
beside itself. --window-fallback: start without --headless where no web view can open and check
it says so and serves anyway.
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


def start(argv, cwd, env=None):
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            encoding="utf-8", errors="replace", env=env)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for line in list(lines):
            m = URL_RE.search(line)
            if m:
                return proc, lines, m
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("executable did not start:\n" + "".join(lines))


def get(url, token=None):
    headers = {"X-Workbench-Token": token} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=20) as resp:
        return resp.status, resp.read()


def check(exe: Path, portable: bool, window_fallback: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="lw-smoke-"))
    argv = [str(exe)]
    if portable:
        local = work / exe.name
        shutil.copy2(exe, local)
        argv = [str(local)]
    else:
        argv += ["--data-dir", str(work / "data")]
    if not window_fallback:
        argv.append("--headless")
    env = None
    if window_fallback:
        import os

        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env["BROWSER"] = "true"  # the fallback opens the system browser: make that a no-op here
    proc, lines, m = start(argv, cwd=work, env=env)
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
            assert any("running in the browser instead" in line for line in lines), "".join(lines)
        print("UI and API OK")
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("exe", type=Path)
    p.add_argument("--portable", action="store_true")
    p.add_argument("--window-fallback", action="store_true")
    args = p.parse_args()
    check(args.exe.resolve(), args.portable, args.window_fallback)
    return 0


if __name__ == "__main__":
    sys.exit(main())
