"""Start a built executable headless, check /api/health and that the UI loads; exit non-zero if not.
Headless, it also imports an image and a video dataset and fetches their thumbnails, so every codec
library the build bundles (Pillow's, PyAV's FFmpeg) and onnxruntime are shown to load inside it.

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
import io
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


def call(url, token, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"X-Workbench-Token": token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=20) as resp:
        return json.loads(resp.read())


def make_media(folder: Path) -> dict[str, list[str]]:
    """Files of every kind the bundled libraries must read: JPEG, PNG with alpha, WebP, AVIF (Pillow's
    codecs) and an MP4 (PyAV's FFmpeg), by dataset type."""
    import av
    import numpy as np
    from PIL import Image

    (folder / "images").mkdir(parents=True)
    (folder / "videos").mkdir()
    Image.new("RGB", (640, 480), (200, 30, 30)).save(folder / "images" / "photo.jpg", quality=90)
    Image.new("RGBA", (300, 500), (0, 90, 200, 120)).save(folder / "images" / "alpha.png")
    Image.new("RGB", (500, 300), (20, 160, 40)).save(folder / "images" / "leaf.webp")
    Image.new("RGB", (256, 256), (90, 90, 10)).save(folder / "images" / "still.avif")
    with av.open(str(folder / "videos" / "clip.mp4"), "w") as out:
        stream = out.add_stream("mpeg4", rate=8)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(16):
            frame = av.VideoFrame.from_ndarray(np.full((240, 320, 3), i * 15, np.uint8), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return {"image": ["alpha.png", "leaf.webp", "photo.jpg", "still.avif"], "video": ["clip.mp4"]}


def check_media(base: str, token: str, work: Path) -> None:
    """What the executable bundles for media and tagging works inside it: imports probe each file, the
    thumbnails decode them (videos through FFmpeg), and onnxruntime loads for the WD14 tagger."""
    from PIL import Image

    providers = json.loads(get(base + "/api/tagging/backends", token)[1])["wd14"]["providers"]
    assert "CPUExecutionProvider" in providers, providers
    expected = make_media(work / "media-src")
    for kind, folder in (("image", "images"), ("video", "videos")):
        ds = call(base + "/api/datasets", token, {"name": f"smoke {kind}", "type": kind})["dataset"]
        job = call(base + f"/api/datasets/{ds['id']}/import", token,
                   {"source": "folder", "path": str(work / "media-src" / folder)})["job"]

        def job_over(job_id=job["id"]):
            return json.loads(get(base + f"/api/jobs/{job_id}", token)[1])["job"]["status"] not in ("queued", "running")

        wait_for(f"the {kind} import", job_over, 120)
        job = json.loads(get(base + f"/api/jobs/{job['id']}", token)[1])["job"]
        assert job["status"] == "done" and job["result"]["imported"] == len(expected[kind]), job
        listed = json.loads(get(base + f"/api/datasets/{ds['id']}/items", token)[1])["items"]
        assert sorted(i["name"] for i in listed) == expected[kind], listed
        for item in listed:
            assert not item["broken"] and item["width"] and item["height"], item
            if kind == "video":
                assert (item["width"], item["height"], item["frames"]) == (320, 240, 16) and item["fps"] == 8, item
            status, jpeg = get(base + item["thumb_url"], token)
            with Image.open(io.BytesIO(jpeg)) as thumb:
                assert status == 200 and thumb.format == "JPEG" and max(thumb.size) == min(384, max(
                    item["width"], item["height"])), (item["name"], thumb.size)
    print("media OK: " + ", ".join(n for names in expected.values() for n in names) + ", onnxruntime")


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
        if not (portable or window_fallback or window):
            check_media(base, token, work)
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
