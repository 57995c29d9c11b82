"""Run launcher.main() in window mode with pywebview replaced by a stand-in whose start() behaves as the
real one does (initialized, then shown, then the page loads the URL), to see what overlaps what.

    python tests/system/window_overlap_run.py DATA_DIR ok|fail

The app's build (create_app) waits until the window has started: a launcher that builds the app before
starting the window fails here (the build gives up after 20 s). It starts only once the web view's engine is
chosen (pywebview's `initialized`: the toolkit's Python modules are loaded by then), so the two do not share
the GIL: `early` says whether the build began while the stand-in held `initialized` back for a second. `ok`: the stand-in's page then loads
/api/health through the address it was given, as the web view's first request would. `fail`: the build
raises once the window is up, and the stand-in waits for the launcher to close it. `gc`: whether the cyclic
collector was on during the build, and whether it is back on, with start-up's objects frozen, once the build
has ended (while the window is still open).
Prints one JSON line: what the page got and whether the window was closed.
"""

from __future__ import annotations

import gc
import json
import sys
import threading
import time
import types
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from webview.event import Event  # noqa: E402 - the real pywebview's event, before the stand-in replaces it

import launcher  # noqa: E402

data_dir, mode = sys.argv[1], sys.argv[2]
TOKEN = "t" * 32
window_started, build_started, destroyed, seen = threading.Event(), threading.Event(), threading.Event(), {}


class Window(types.SimpleNamespace):
    def destroy(self):
        destroyed.set()


def create_window(title, url, **kw):
    names = ("resized", "moved", "maximized", "restored", "closing", "initialized", "shown")
    seen["window"] = Window(url=url, events=types.SimpleNamespace(**{n: Event(None, n == "initialized")
                                                                     for n in names}))
    return seen["window"]


def start(**kw):
    window = seen["window"]
    window_started.set()
    # The real start() imports the toolkit's modules here (~0.3 s); the app's build must not run meanwhile.
    seen["early"] = build_started.wait(1.0)
    if window.events.initialized.set("qtwebengine"):   # true: a handler cancelled the window
        return
    window.events.shown.set()
    deadline = time.monotonic() + 30   # the build ends on its own thread: wait for the collector to be back
    while not gc.isenabled() and time.monotonic() < deadline:
        threading.Event().wait(0.01)
    seen.setdefault("gc", {}).update(resumed=gc.isenabled(), frozen=gc.get_freeze_count() > 0)
    if mode == "ok":   # the page's first request: waits in the socket's backlog until the app serves it
        req = urllib.request.Request(window.url.split("?")[0] + "api/health", headers={"X-Workbench-Token": TOKEN})
        with urllib.request.urlopen(req, timeout=60) as resp:
            seen["health"] = json.loads(resp.read())
    else:
        seen["closed"] = destroyed.wait(30)


sys.modules["webview"] = types.SimpleNamespace(create_window=create_window, start=start, settings={})
real_create_app = launcher.create_app


def create_app(**kw):
    seen["gc"] = {"in_build": gc.isenabled()}
    build_started.set()
    if not window_started.wait(20):
        raise RuntimeError("the app was built before the window started")
    if mode == "fail":
        raise RuntimeError("the database cannot be opened")
    return real_create_app(**kw)


launcher.create_app = create_app
code = launcher.main(["--data-dir", data_dir, "--token", TOKEN])
print(json.dumps({"code": code, "health": seen.get("health"), "closed": seen.get("closed"), "early": seen.get("early"),
                  "gc": seen.get("gc")}), flush=True)
