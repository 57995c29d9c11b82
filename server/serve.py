"""Runs a Flask app on 127.0.0.1 (or the --listen address) in a background thread with werkzeug's threaded server.

The port is chosen by binding to port 0 unless one is given; a `prefer_port` is tried first and given up
quietly when it is taken. The socket is bound and listening from the constructor on, and the app may come
later (`ServerThread(None)`, then `serve(app)`): connections wait in the socket's backlog until then, so
the launcher can point the window at the address while the app is still being built. werkzeug itself is
loaded only then, with the app (Flask imports it anyway), not on the window's way. `shutdown()` stops
serving and joins the thread, so closing the window leaves nothing behind.
"""

from __future__ import annotations

import logging
import socket
import threading

HOST = "127.0.0.1"
BACKLOG = 128   # werkzeug's own (LISTEN_QUEUE)


class ServerThread(threading.Thread):
    def __init__(self, app=None, port: int = 0, host: str = HOST, prefer_port: int | None = None):
        """Raises OSError when `port` cannot be bound (taken, or not an address of this machine)."""
        super().__init__(name="http-server", daemon=True)
        # Loopback unless the launcher's --listen says otherwise (server mode, server/security.py).
        sock = None
        if prefer_port:
            try:
                sock = listen(host, prefer_port)
            except OSError:
                pass
        self._sock = sock or listen(host, port)
        self.host = host
        self.port = self._sock.getsockname()[1]
        self._server = None
        if app is not None:
            self._server = self._wsgi_server(app)

    def _wsgi_server(self, app):
        from werkzeug.serving import make_server

        try:
            # werkzeug serves the socket bound here: its own bind sets SO_REUSEADDR on Windows too, where
            # that lets two programs hold one port, and it exits the process when the port is taken.
            server = make_server(self.host, self.port, app, threaded=True, fd=self._sock.fileno())
        finally:
            self._sock.close()   # werkzeug holds its own duplicate
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        return server

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve(self, app) -> None:
        """Start answering with `app` (for a server made without one)."""
        self._server = self._wsgi_server(app)
        self.start()

    def run(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def close(self) -> None:
        """Release the socket of a server that never served (its app failed to start)."""
        if self._server is None:
            self._sock.close()
        else:
            self._server.server_close()

    def shutdown(self, timeout: float = 5) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.join(timeout)


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port), as the standard library makes a server's: SO_REUSEADDR on
    POSIX (a restart over connections still in TIME_WAIT), none on Windows, where it would let a second
    program bind a port that is in use."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
    # "::" (--listen) means every address, IPv4 ones included, as it did when werkzeug bound it on Linux.
    dualstack = family == socket.AF_INET6 and host == "::" and socket.has_dualstack_ipv6()
    return socket.create_server((host, port), family=family, backlog=BACKLOG, dualstack_ipv6=dualstack)
