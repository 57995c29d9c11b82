"""LoRA Workbench server: a Flask JSON API, a websocket and the built UI.

`create_app(data_dir=..., token=...)` builds an app with its own store, event bus and job
manager; nothing is global, so tests can run many apps side by side in tmp dirs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app

from .events import EventBus
from .jobs import JobManager
from .paths import DataLayout
from .store import Store
from .version import __version__

UI_DIST = Path(__file__).resolve().parent.parent / "ui" / "dist"


@dataclass
class Services:
    """Everything a request handler or worker needs, hung on the app."""

    layout: DataLayout
    store: Store
    bus: EventBus
    jobs: JobManager
    token: str
    started_at: float = field(default_factory=time.time)
    # Set by the launcher when a native window exists, so the API can focus it or open folders in it.
    window: object | None = None
    # Called on shutdown (stop monitors, supervisors...), last registered first.
    on_shutdown: list = field(default_factory=list)

    def shutdown(self) -> None:
        for fn in reversed(self.on_shutdown):
            try:
                fn()
            except Exception:  # noqa: BLE001 - shutting down must go on
                logging.getLogger(__name__).exception("shutdown hook failed")
        self.jobs.shutdown(wait=False)
        self.store.close()


def services() -> Services:
    return current_app.extensions["workbench"]


def create_app(*, data_dir: Path | str, token: str, ui_dist: Path | None = None,
               testing: bool = False) -> Flask:
    from . import api, security, ui
    from .errors import register_error_handlers

    layout = DataLayout(Path(data_dir)).ensure()
    store = Store(layout.database)
    bus = EventBus()
    jobs = JobManager(store, bus)

    app = Flask(__name__, static_folder=None)
    app.config.update(
        WORKBENCH_TOKEN=token,
        TESTING=testing,
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=None,
        UI_DIST=Path(ui_dist) if ui_dist else UI_DIST,
        SOCK_SERVER_OPTIONS={"ping_interval": 25},
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["workbench"] = Services(layout=layout, store=store, bus=bus, jobs=jobs, token=token)

    register_error_handlers(app)
    security.install(app)
    api.register(app)
    ui.register(app)
    return app


__all__ = ["create_app", "services", "Services", "__version__"]
