"""Long sessions: database connections and file handles stay flat over many requests on the real
threaded server (each request runs on a new thread, as in the app)."""

from __future__ import annotations

import http.client
import os

import psutil

from server.store import POOL_SIZE
from tests.conftest import TOKEN


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"X-Workbench-Token": TOKEN})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def _db_handles(db_path) -> int:
    """Open file handles of this process on the database file (and its -wal/-shm companions)."""
    name = os.path.basename(db_path)
    return sum(1 for f in psutil.Process().open_files() if os.path.basename(f.path).startswith(name))


def test_requests_do_not_leak_connections_or_handles(server, svc):
    routes = ["/api/health", "/api/datasets", "/api/jobs", "/api/settings", "/api/tasks"]
    for path in routes:  # warm up: first use of each route may open lazily-created things
        assert _get(server.port, path) == 200
    conns_before = svc.store.open_connections
    fds_before = psutil.Process().num_fds()
    db_before = _db_handles(svc.store.path)

    for i in range(600):
        assert _get(server.port, routes[i % len(routes)]) == 200

    # The pool keeps a few idle connections; what matters is that 600 requests did not add 600.
    assert svc.store.open_connections <= conns_before + POOL_SIZE
    assert _db_handles(svc.store.path) <= db_before + 2 * POOL_SIZE
    assert psutil.Process().num_fds() <= fds_before + 2 * POOL_SIZE + 10


def test_thread_that_never_releases_closes_its_connection(svc):
    import threading

    before = svc.store.open_connections

    def work():
        svc.store.db.execute("SELECT 1").fetchone()

    for _ in range(50):
        t = threading.Thread(target=work)
        t.start()
        t.join()
    assert svc.store.open_connections <= before + 1


def test_released_connection_is_reused(svc):
    import threading

    def work():
        svc.store.db.execute("SELECT 1").fetchone()
        svc.store.release()

    t = threading.Thread(target=work)
    t.start()
    t.join()
    before = svc.store.open_connections
    for _ in range(20):
        t = threading.Thread(target=work)
        t.start()
        t.join()
    assert svc.store.open_connections == before
