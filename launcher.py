"""Start LoRA Workbench: the server on 127.0.0.1 in a background thread, and the native window.

The listening socket is bound first; in window mode the window then starts (Qt WebEngine / WebView2:
the longest part of a launch) while the app is built on another thread, and the page's first request
waits in the socket's backlog until the app serves it. Headless, the app is built first. The port is the
last launch's when it is free: the web view keeps its cache and local storage per address.

    python launcher.py                 # window (pywebview)
    python launcher.py --headless      # no window: print the URL (with the launch secret) to open
    python launcher.py --headless --open-browser --port 8765 --data-dir D:\\lora-data
    LoRA-Workbench.exe --console       # Windows executable: also show the log in a console window
    python launcher.py --listen 0.0.0.0 --port 8765 --allowed-host gpu.example.org   # server mode (README)

Closing the window (or Ctrl+C in headless mode) stops the server, the background jobs and the
monitor cleanly. A second launch over the same data folder focuses the first instead. Everything
logged (and printed) also goes to `<data>/logs/app.log`: the Windows executable has no console.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
import threading
import webbrowser
from pathlib import Path

from server import create_app
from server.instance import InstanceLock, call, running_instance
from server.launch_secret import new_token, server_secret_problem
from server.paths import DataLayout, choose_data_dir, writable
from server.serve import ServerThread
from server.store.peek import peek_setting
from server.system import applog, startup, webview_engine
from server.version import __version__

log = logging.getLogger("launcher")

TITLE = "LoRA Workbench"
MIN_SIZE = (1100, 700)
DEFAULT_SIZE = (1440, 900)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="lora-workbench", description="LoRA Workbench " + __version__)
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--headless", action="store_true", help="no window; print the URL to open")
    p.add_argument("--open-browser", action="store_true", help="with --headless: open the URL in the system browser")
    p.add_argument("--data-dir", type=Path, default=None, help="where the app keeps its data")
    p.add_argument("--token", default=None, help="launch secret (default: $LORA_WORKBENCH_TOKEN or a random one)")
    p.add_argument("--listen", default=None, metavar="ADDR",
                   help="server mode: listen on ADDR (e.g. 0.0.0.0) instead of 127.0.0.1; implies --headless, "
                        "needs a launch secret of 32+ characters, and shows a login page")
    p.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                   help="server mode: a host name browsers use to reach the app (besides loopback and the "
                        "listen address); repeat for several")
    p.add_argument("--gpu-provider", default=None, help=argparse.SUPPRESS)
    p.add_argument("--debug", action="store_true", help="verbose logs and the web inspector")
    p.add_argument("--console", action="store_true",
                   help="Windows executable: show the log in a console window (it has none by default)")
    p.add_argument("--version", action="version", version=__version__)
    return p.parse_args(argv)


def main(argv=None) -> int:
    # Start-up makes ~100,000 objects that live as long as the app (modules, classes, routes) and almost no
    # garbage, and the cyclic collector scanned them again and again while they loaded: 60-70 ms of the app's
    # ~0.55 s build, more beside the window's toolkit, all on the way to the first page. It is off until the
    # app is built, then what start-up made is frozen out of every later collection (_resume_gc).
    gc.disable()
    try:
        return _run(argv)
    finally:
        _resume_gc()


def _resume_gc() -> None:
    """Once per launch, when the app is built (or could not be): what start-up made moves to the collector's
    permanent generation, so no later collection scans it (shorter pauses all session long; the few hundred
    objects start-up left in reference cycles stay with it), and collection resumes."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _run(argv) -> int:
    applog.ensure_streams()  # windowed executable: print() and stray writes go to the log, never crash
    startup.reset_dll_directory()
    args = parse_args(argv)
    server_mode = args.listen is not None
    if server_mode:
        args.headless = True  # a server has no one at its desktop: nothing opens there
    if args.allowed_host and not server_mode:
        print("--allowed-host needs --listen.", file=sys.stderr)
        return 2
    if args.console or args.headless:
        startup.open_console(allocate=args.console)
    data_dir, unwritable = choose_data_dir(args.data_dir)
    if not writable(data_dir):
        startup.report_failure(f"Cannot write to the data folder {data_dir}. Choose another with --data-dir.")
        return 2

    lock = InstanceLock(data_dir)
    if not lock.acquire():
        return _hand_over(data_dir, args)
    applog.setup(data_dir / "logs", debug=args.debug)
    if unwritable:
        log.warning("The program's folder cannot be written (%s): keeping the data in %s instead.",
                    unwritable, data_dir)

    given = args.token or os.environ.get("LORA_WORKBENCH_TOKEN")
    token = given or new_token()
    if server_mode and server_secret_problem(token):
        startup.report_failure(server_secret_problem(token))
        lock.release()
        return 2
    host = args.listen or "127.0.0.1"
    try:
        # Bound now, served once the app is built: the window can load the address meanwhile.
        server = ServerThread(None, port=args.port, host=host, prefer_port=_last_port(args, data_dir))
    except OSError as exc:
        startup.report_failure(f"Cannot listen on {host}:{args.port}: {exc or 'address already in use'}. "
                               "Choose another --port or leave it out.")
        lock.release()
        return 2
    # A wildcard address is not one a browser can open: the local (loopback) one is offered instead,
    # which is also what an SSH tunnel forwards to.
    local_base = server.base_url if not _wildcard(host) else f"http://127.0.0.1:{server.port}"
    url = f"{local_base}/?token={token}"
    stop = threading.Event()
    # The window (Qt WebEngine / WebView2 starting: seconds) opens while the app is built (imports,
    # migrations, start-up recovery) on another thread; its first request waits in the socket's backlog.
    window = None if args.headless else _make_window(url, data_dir)
    app = _Starting(lambda: _start_app(args, data_dir, token, unwritable, server, server_mode, given, url, local_base,
                                       host, lock, window, stop))
    if window is None:
        app.run()          # headless (or no pywebview): nothing to overlap with
    else:
        app.hold()         # until the web view's own Python modules are loaded (_show_window)
        app.start()
    svc = None
    try:
        windowed = window is not None and _show_window(window, app, args.debug, data_dir)
        svc = app.result()
        if svc is None:
            return 2
        if not windowed:
            if not args.headless:
                startup.open_console(allocate=True)  # the windowed executable: something to close to stop it
                print("No web view is available on this system: running in the browser instead. "
                      "Close this console window (or press Ctrl+C) to stop.", flush=True)
                args.open_browser = True
                lock.write_info(url=url, port=server.port, token=token, window=False)  # a second launch opens the browser
            if args.open_browser:
                webbrowser.open(url)
            _wait_for_stop_signal(stop)
    finally:
        if svc is not None:
            server.shutdown()
            svc.shutdown()
            print("LoRA Workbench stopped.", flush=True)
        else:
            server.close()
        lock.release()
    return 0


class _Starting(threading.Thread):
    """Builds and serves the app (on this thread or its own); `result()` waits for the Services, or None
    when building failed (already reported)."""

    # The GUI toolkit's Python side (pywebview's Qt or WinForms module: ~0.3 s of imports) and the app's
    # build (~0.5 s) both need the GIL; run at once, each takes the time of both. Built after it, the app
    # overlaps the toolkit's native start (Qt WebEngine, WebView2), which runs without the GIL.
    HOLD_LIMIT = 3.0

    def __init__(self, fn):
        super().__init__(name="app-start", daemon=True)
        self._fn = fn
        self._svc = None
        self.ended = threading.Event()
        self._go = threading.Event()
        self._go.set()

    def hold(self) -> None:
        """Started, wait for `release()` (or HOLD_LIMIT seconds) before building."""
        self._go.clear()

    def release(self) -> None:
        self._go.set()

    def run(self) -> None:
        try:
            self._go.wait(self.HOLD_LIMIT)
            self._svc = self._fn()
        except Exception as exc:  # noqa: BLE001 - e.g. a database that cannot be opened or migrated
            log.exception("The app could not start")
            startup.report_failure(f"LoRA Workbench could not start: {exc}")
        finally:
            _resume_gc()
            self.ended.set()

    def result(self):
        self.ended.wait()
        return self._svc


def _start_app(args, data_dir, token, unwritable, server, server_mode, given, url, local_base, host, lock, window,
               stop):
    app = create_app(data_dir=data_dir, token=token, gpu_provider=args.gpu_provider, server_mode=server_mode,
                     allowed_hosts=[*args.allowed_host, *listen_hosts(args.listen)])
    svc = app.extensions["workbench"]
    svc.data_dir_fallback = str(unwritable) if unwritable else None
    svc.window = window
    svc.quit = lambda: (svc.window.destroy() if svc.window is not None else stop.set())
    server.serve(app)
    if _remembers_port(args) and svc.store.get_setting("ui_port") != server.port:
        svc.store.set_setting("ui_port", server.port)
    lock.write_info(url=url, port=server.port, token=token, window=window is not None)
    if server_mode:
        # The log masks `token=...` (server/system/applog.py); a secret the user set is never printed,
        # a random one is (they need it to log in) and goes only to this console in full.
        print(f"LoRA Workbench {__version__} (server mode) is listening on {host} port {server.port}: "
              f"open http://<this machine>:{server.port}/ and log in with the launch secret.", flush=True)
        if _wildcard(host) and not args.allowed_host:
            print("Only loopback names are accepted as Host: add --allowed-host with the address or name browsers "
                  "use to reach this machine (e.g. its IP, or a provider's proxy host name).", flush=True)
        if given:
            print(f"Launch secret: the one set by --token / LORA_WORKBENCH_TOKEN ({token[:4]}…).", flush=True)
        else:
            print(f"Launch secret (random, new each start; set --token or LORA_WORKBENCH_TOKEN for a stable one): "
                  f"{local_base}/?token={token}", flush=True)
    else:
        print(f"LoRA Workbench {__version__} is running at {url}", flush=True)
    print(f"Data folder: {data_dir}", flush=True)
    return svc


def _remembers_port(args) -> bool:
    """A local launch on a port of the app's choosing keeps it from launch to launch where it can: the
    web view's HTTP cache, compiled scripts and local storage (the UI's own preferences) belong to the
    address, and a new port each time meant a cold page with those preferences gone."""
    return not args.port and args.listen is None


def _last_port(args, data_dir: Path) -> int | None:
    if not _remembers_port(args):
        return None
    port = peek_setting(DataLayout(data_dir).database, "ui_port")
    return port if isinstance(port, int) and not isinstance(port, bool) and 1024 <= port <= 65535 else None


def _wildcard(host: str) -> bool:
    return host in ("0.0.0.0", "::", "")


def listen_hosts(listen: str | None) -> list[str]:
    """The listen address is a name browsers may use as Host (a wildcard is not)."""
    return [listen] if listen and not _wildcard(listen) else []


def _hand_over(data_dir: Path, args) -> int:
    """Another launch owns this data folder: bring it forward instead of opening the database twice."""
    info = running_instance(data_dir)
    if info is None:
        startup.report_failure(f"Another LoRA Workbench is starting or stopping with the data folder {data_dir}. "
                               "Try again in a moment, or use --data-dir for a separate folder.")
        return 3
    print(f"LoRA Workbench is already running with this data folder at {info['url']}", flush=True)
    if info.get("window") and not args.headless:
        call(info, "POST", "/api/app/focus")
        print("Brought its window to the front.", flush=True)
    elif args.open_browser or (not args.headless and not info.get("window")):
        webbrowser.open(info["url"])
    return 0


def _make_window(url: str, data_dir: Path):
    """The pywebview window (not shown yet), or None when pywebview cannot load (no GUI libraries)."""
    try:
        import webview
    except Exception as exc:  # noqa: BLE001 - missing GUI libraries mean "no web view"
        log.warning("pywebview unavailable: %s", exc)
        return None

    geo = peek_setting(DataLayout(data_dir).database, "window") or {}
    width = max(MIN_SIZE[0], geo.get("width", DEFAULT_SIZE[0]))
    height = max(MIN_SIZE[1], geo.get("height", DEFAULT_SIZE[1]))
    window = webview.create_window(
        TITLE, url, width=width, height=height, x=geo.get("x"), y=geo.get("y"),
        min_size=MIN_SIZE, maximized=bool(geo.get("maximized")), text_select=True,
    )
    window.lw_state = {"width": width, "height": height, "x": geo.get("x"), "y": geo.get("y"),
                       "maximized": bool(geo.get("maximized"))}
    return window


def _show_window(window, app: "_Starting", debug: bool, data_dir: Path) -> bool:
    """Show the window until it is closed; returns False when no web view can be created or the only one
    there cannot run the UI (server/system/webview_engine.py). Closes it when the app fails to start."""
    import webview

    state = window.lw_state

    def resized(w, h):
        if not state["maximized"]:
            state.update(width=w, height=h)

    def moved(x, y):
        if not state["maximized"]:
            state.update(x=x, y=y)

    def closing():
        svc = app.result()
        if svc is not None:
            svc.store.set_setting("window", state)

    def close_if_failed():
        if app.result() is None:
            window.destroy()

    window.events.resized += resized
    window.events.moved += moved
    window.events.maximized += lambda: state.update(maximized=True)
    window.events.restored += lambda: state.update(maximized=False)
    window.events.closing += closing
    window.events.shown += close_if_failed   # pywebview runs each handler on a thread of its own
    engine = {}

    def initialized(renderer):
        """Runs before the native window exists; returning False cancels it."""
        engine["name"] = renderer
        app.release()
        log.info("Window engine: %s", renderer)
        if not webview_engine.usable(renderer):
            log.warning("The %s web engine cannot show the UI (on Windows the Microsoft Edge WebView2 Runtime "
                        "is needed: https://developer.microsoft.com/microsoft-edge/webview2/).", renderer)
            return False
        return True

    window.events.initialized += initialized
    gui = "qt" if sys.platform.startswith("linux") else None
    shown = False
    try:
        webview.settings["ALLOW_DOWNLOADS"] = True
        # The web view's profile (cache, local storage) stays in the data folder, so a portable copy
        # carries it and leaves nothing in %APPDATA%.
        webview.start(gui=gui, debug=debug, private_mode=False, storage_path=str(data_dir / "webview"))
        shown = webview_engine.usable(engine.get("name"))
    except Exception as exc:  # noqa: BLE001 - e.g. no GUI libraries, or the storage folder unwritable
        log.warning("Could not open the window: %s", exc)
    app.release()
    svc = app.result()
    if svc is not None:
        svc.window = None
    return shown


def _wait_for_stop_signal(stop: threading.Event) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if hasattr(signal, "SIGBREAK"):
        signal.signal(signal.SIGBREAK, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass


if __name__ == "__main__":
    # The thumbnail job runs a process pool (spawn): in the frozen exe a worker is this same exe, and
    # freeze_support() turns it into the worker instead of a second app. A no-op when not frozen.
    import multiprocessing

    multiprocessing.freeze_support()
    sys.exit(main())
