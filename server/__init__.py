"""LoRA Workbench server: a Flask JSON API, a websocket and the built UI.

`create_app(data_dir=..., token=...)` builds an app with its own store, event bus and job
manager; nothing is global, so tests can run many apps side by side in tmp dirs.
"""

from __future__ import annotations

from pathlib import Path

from .version import __version__

# Nothing heavy is imported here: every `server.<module>` import runs this file first, and the
# launcher needs its light modules (paths, instance, serve) before Flask, sqlite-utils and the
# features load, so it can open the window while the app is built (launcher.py).
UI_DIST = Path(__file__).resolve().parent.parent / "ui" / "dist"


def create_app(*, data_dir: Path | str, token: str, ui_dist: Path | None = None,
               testing: bool = False, gpu_provider: str | None = None, server_mode: bool = False,
               allowed_hosts=()):
    """Build the app. `gpu_provider`: None (NVML), "none", or "recorded:<json file>" (see system/gpu.py);
    the LORA_WORKBENCH_GPU_PROVIDER environment variable sets it when the argument is None.
    `server_mode`/`allowed_hosts`: launcher.py --listen / --allowed-host (server/security.py)."""
    import os

    from flask import Flask

    from . import api, jsonsafe, security, ui
    from .events import EventBus
    from .jobs import JobManager
    from .paths import DataLayout
    from .services import Services
    from .store import Store
    from .datasets.limits import MAX_REQUEST_BYTES
    from .errors import register_error_handlers
    from .system.gpu import make_provider
    from .system.monitor import SystemMonitor
    from .training.supervisor import Supervisor

    layout = DataLayout(Path(data_dir)).ensure()
    store = Store(layout.database)
    bus = EventBus()
    jobs = JobManager(store, bus)

    app = Flask(__name__, static_folder=None)
    app.config.update(
        WORKBENCH_TOKEN=token,
        TESTING=testing,
        JSON_SORT_KEYS=False,
        # Refused with 413 before the body is read: see datasets/limits.py for why this size.
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        UI_DIST=Path(ui_dist) if ui_dist else UI_DIST,
        SOCK_SERVER_OPTIONS={"ping_interval": 25},
    )
    # UTF-8 as is, keys in the order built; a lone surrogate in a stored row is written as U+FFFD.
    app.json = jsonsafe.JSONProvider(app)
    svc = Services(layout=layout, store=store, bus=bus, jobs=jobs, token=token, server_mode=server_mode)
    app.extensions["workbench"] = svc
    # Before any request or job: finish what a crash left half done (datasets/recovery.py).
    from .datasets import recovery
    recovery.run(svc)
    # The GPU probe runs on the monitor's thread: nothing on the way to the first page waits for it.
    gpu_spec = gpu_provider or os.environ.get("LORA_WORKBENCH_GPU_PROVIDER")
    svc.monitor = SystemMonitor(bus, lambda: make_provider(gpu_spec))
    svc.monitor.start()
    svc.on_shutdown.append(svc.monitor.stop)
    # Started before requests arrive: it re-attaches training runs that outlived the last app.
    svc.supervisor = Supervisor(store, layout, bus)
    svc.supervisor.start()
    svc.on_shutdown.append(svc.supervisor.shutdown)

    # Werkzeug runs each request on a new thread: its connection goes back to the pool when it ends.
    app.teardown_request(lambda _exc: store.release())

    register_error_handlers(app)
    security.install(app, server_mode=server_mode, allowed_hosts=allowed_hosts)
    api.register(app)
    ui.register(app)
    return app


def __getattr__(name):
    if name == "Services":   # loaded on first use (see the imports above)
        from .services import Services
        return Services
    raise AttributeError(name)


__all__ = ["create_app", "Services", "__version__"]
