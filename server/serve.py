"""Runs a Flask app on 127.0.0.1 (or the --listen address) in a background thread with werkzeug's threaded server.

The port is chosen by binding to port 0 unless one is given; `shutdown()` stops serving and
joins the thread, so closing the window leaves nothing behind. The socket is bound and listening
from the constructor on, and the app may come later (`ServerThread(None)`, then `serve(app)`):
connections wait in the socket's backlog until then, so the launcher can point the window at the
address while the app is still being built.
"""

from __future__ import annotations

import logging
import threading

from werkzeug.serving import make_server

HOST = "127.0.0.1"


class ServerThread(threading.Thread):
    def __init__(self, app=None, port: int = 0, host: str = HOST):
        super().__init__(name="http-server", daemon=True)
        # Loopback unless the launcher's --listen says otherwise (server mode, server/security.py).
        self._server = make_server(host, port, app, threaded=True)
        self.host = host
        self.port = self._server.server_port
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve(self, app) -> None:
        """Start answering with `app` (for a server made without one)."""
        self._server.app = app
        self.start()

    def run(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def close(self) -> None:
        """Release the socket of a server that never served (its app failed to start)."""
        self._server.server_close()

    def shutdown(self, timeout: float = 5) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.join(timeout)
