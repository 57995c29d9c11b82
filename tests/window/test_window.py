"""Window smoke test: launcher.py opens the real pywebview (Qt WebEngine) window on a virtual
X screen, the UI renders in it (checked from a screenshot), and closing it stops the app cleanly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from tests.live import LiveApp

NAV_BG = (0x1F, 0x25, 0x33)  # --nav-bg of the light theme
ACCENT = (0x4F, 0x6B, 0xED)  # the active navigation item


def _free_display() -> int:
    for n in range(90, 140):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


@pytest.fixture
def xvfb():
    if not shutil.which("Xvfb") or not shutil.which("import"):
        pytest.fail("Xvfb and ImageMagick are required; the test command installs them (apt).")
    n = _free_display()
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{n}").exists():
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("Xvfb did not start")
        time.sleep(0.1)
    yield f":{n}"
    proc.terminate()
    proc.wait(5)


def screenshot(display: str, path: Path) -> Image.Image:
    subprocess.run(["import", "-display", display, "-window", "root", str(path)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20)
    return Image.open(path).convert("RGB")


def color_mask(img: Image.Image, color, tolerance: int = 6) -> Image.Image:
    bands = [band.point(lambda v, c=c: 255 if abs(v - c) <= tolerance else 0) for band, c in zip(img.split(), color)]
    return ImageChops.multiply(ImageChops.multiply(bands[0], bands[1]), bands[2])


def solid_columns(img: Image.Image, color, share: float = 0.6) -> list[int]:
    """x of every column where most pixels have `color`: a painted bar, not scattered text."""
    profile = color_mask(img, color).resize((img.width, 1), Image.BOX)
    return [x for x in range(img.width) if profile.getpixel((x, 0)) >= 255 * share]


def post(live, path):
    req = urllib.request.Request(live.base + path, data=b"{}", method="POST",
                                 headers={"X-Workbench-Token": live.token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_window_renders_ui_and_closes_cleanly(xvfb, tmp_path):
    env = {"DISPLAY": xvfb, "QT_QPA_PLATFORM": "xcb", "LORA_WORKBENCH_GPU_PROVIDER": "none",
           # Qt WebEngine's sandbox cannot run as root in a container.
           "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox --disable-gpu", "QTWEBENGINE_DISABLE_SANDBOX": "1"}
    # A returning user: the first-run wizard (tested in the browser tests) would dim the page.
    from server.store import Store

    store = Store(tmp_path / "data" / "workbench.db")
    store.set_setting("first_run_done", True)
    store.close()
    live = LiveApp(tmp_path / "data", headless=False, env=env).wait_ready(timeout=60)
    shot = Path(os.environ.get("LW_SCREENSHOTS", tmp_path)) / "window.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    try:
        deadline = time.monotonic() + 60
        nav, accent = [], None
        while time.monotonic() < deadline:
            img = screenshot(xvfb, shot)
            nav, accent = solid_columns(img, NAV_BG), None
            if nav:  # the active item: an accent bar inside the navigation column
                accent = color_mask(img.crop((nav[0], 0, nav[-1] + 1, img.height)), ACCENT).getbbox()
            if nav and accent:
                break
            time.sleep(1)
        # The navigation bar is a solid column about 200 px wide; the active item (accent) sits inside it.
        assert nav, f"navigation bar not rendered; see {shot}\n{live.log}"
        assert 150 <= nav[-1] - nav[0] + 1 <= 260 and len(nav) >= 100, f"unexpected nav columns; see {shot}"
        assert accent and accent[2] - accent[0] >= 100, f"active nav item not rendered; see {shot}"
        health = urllib.request.urlopen(urllib.request.Request(
            live.base + "/api/health", headers={"X-Workbench-Token": live.token}), timeout=10)
        assert json.loads(health.read())["window"] is True
        assert post(live, "/api/app/focus") == {"focused": True}
        assert post(live, "/api/app/quit") == {"quitting": True}
        live.proc.wait(30)
    finally:
        code = live.stop()
    assert code == 0, live.log
    assert "LoRA Workbench stopped." in live.log
    # the window's size was remembered for the next launch
    import sqlite3

    con = sqlite3.connect(tmp_path / "data" / "workbench.db")
    row = con.execute("SELECT value FROM settings WHERE key = 'window'").fetchone()
    con.close()
    assert row and json.loads(row[0])["width"] >= 1100


def test_second_launch_hands_over_to_the_first(tmp_path):
    first = LiveApp(tmp_path / "data", env={"LORA_WORKBENCH_GPU_PROVIDER": "none"}).wait_ready()
    try:
        second = subprocess.run(
            [first.proc.args[0], "-u", first.proc.args[2], "--data-dir", str(tmp_path / "data"), "--headless"],
            capture_output=True, text=True, timeout=30,
        )
        assert second.returncode == 0
        assert "already running" in second.stdout and first.url in second.stdout
        # the first one still serves
        with urllib.request.urlopen(urllib.request.Request(
                first.base + "/api/health", headers={"X-Workbench-Token": first.token}), timeout=10) as resp:
            assert resp.status == 200
    finally:
        first.stop()


def test_busy_port_gives_a_clear_message(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        app = LiveApp(tmp_path / "data", extra_args=["--port", str(port)])
        code = app.proc.wait(30)
        app.stop()
    assert code == 2
    assert f"Cannot listen on 127.0.0.1:{port}" in app.log
