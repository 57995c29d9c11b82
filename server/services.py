"""What a request handler or worker reaches the app's parts through: `services()` inside a request.

Its own module so that features import it sideways (`from ..services import services`) instead of
from the package that builds the app and imports them all.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from flask import current_app

from .events import EventBus
from .jobs import JobManager
from .paths import DataLayout
from .store import Store


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
    monitor: object | None = None
    # The training queue (server/training/supervisor.py).
    supervisor: object | None = None
    # Set by the launcher: ends the app as closing the window would.
    quit: object | None = None
    # Set by the launcher when the portable folder could not be written and the per-user one is used.
    data_dir_fallback: str | None = None
    # Server mode (launcher.py --listen): reached from another machine, so nothing may open on this
    # one's desktop (folders are downloaded instead, paths picked in the folder browser).
    server_mode: bool = False
    # Called on shutdown (stop monitors, supervisors...), last registered first.
    on_shutdown: list = field(default_factory=list)

    def shutdown(self) -> None:
        for fn in reversed(self.on_shutdown):
            try:
                fn()
            except Exception:  # noqa: BLE001 - shutting down must go on
                logging.getLogger(__name__).exception("shutdown hook failed")
        # Jobs use the store from their own threads: closing sqlite under a running job can crash the
        # process, so the store is closed only once every job has stopped (the OS closes it otherwise).
        if self.jobs.shutdown(wait=True):
            self.store.close()


def services() -> Services:
    return current_app.extensions["workbench"]
