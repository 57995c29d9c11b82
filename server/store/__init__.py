"""The app's one database: sqlite-utils over `workbench.db` in the data dir.

sqlite connections must not be shared between threads, so each thread (request handlers,
job workers, the training supervisor) gets its own connection to the same file. WAL mode lets
readers run while a writer writes; `busy_timeout` makes a writer wait instead of failing.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
import threading
import time
import weakref
from pathlib import Path

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils
# sqlite-utils (and the migrations that use it) load with the first Store, not with this package:
# the launcher reads a setting (peek.py) before the app is built, on the window's path.


def load_sqlite_utils():
    """sqlite-utils, imported with numpy hidden the first time. sqlite-utils imports numpy when it is
    installed (it is: the WD14 tagger's) only to map numpy scalar types to column types when a table is
    created from rows holding them; the app never hands it numpy values, and numpy's import is about a
    tenth of the CPU the app takes to start, spent before the window can show anything (issue 19). So
    its try-import fails and numpy loads when a tagger first makes an array (tagging/wd14.py).
    Not thread-safe against a concurrent first `import numpy`, which nothing does while the app starts."""
    if "sqlite_utils" not in sys.modules and "numpy" not in sys.modules:
        sys.modules["numpy"] = None   # `import numpy` raises ImportError while this is here
        try:
            import sqlite_utils  # noqa: F401, PLC0415
        finally:
            if sys.modules.get("numpy", 0) is None:
                del sys.modules["numpy"]
    import sqlite_utils  # noqa: PLC0415

    return sqlite_utils


# Idle connections kept for the next request thread; more than this are closed. Werkzeug serves each
# request on a new thread, so without a pool every request would pay for a fresh connection.
POOL_SIZE = 8


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database):
    """The one way to make several writes one change: `with transaction(db): ...` commits them together at
    the end, or none of them (an exception rolls back and propagates). Inside an open transaction it is a
    savepoint of that one, so functions that write compose into a single commit, and a nested block that
    fails undoes only its own writes before its exception reaches the outer one. Every savepoint has the
    same name (SQLite releases or rolls back the innermost of that name): sqlite-utils' `db.atomic()`
    names each one afresh, so each is a new statement for SQLite to parse and for the connection's
    statement cache to hold (a caption save opens three).

    The outermost block starts with BEGIN IMMEDIATE: it takes the write lock first, waiting for another
    writer under `busy_timeout`. A plain (deferred) BEGIN starts as a reader, and in WAL mode a reader
    whose snapshot another connection has written past cannot become a writer: its first write fails at
    once with "database is locked", whatever the timeout (a caption saved while the thumbnail job
    indexed its batch did). Written through this name everywhere: tests/server/test_transactions.py
    finds the other ways. `with db.conn:` is not one: sqlite-utils' `db.execute` commits a write made
    while no transaction is open, so the first write of such a block commits alone, and its exit
    commits an outer transaction."""
    conn = db.conn
    if conn.in_transaction:
        conn.execute("SAVEPOINT nested")
        try:
            yield db
        except BaseException:
            if conn.in_transaction:   # an error may have ended the whole transaction, savepoints included
                conn.execute("ROLLBACK TO nested")
                conn.execute("RELEASE nested")
            raise
        conn.execute("RELEASE nested")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        conn.rollback()   # a no-op if the error already ended the transaction: the error propagates
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise


class _Lease:
    """One thread's hold on a connection. When the thread dies without `release()` its thread-local
    dict drops the lease, and the finalizer closes the connection: nothing outlives its thread."""

    __slots__ = ("db", "conn", "finalizer", "__weakref__")

    def __init__(self, store: "Store", db: sqlite_utils.Database):
        self.db = db
        self.conn = db.conn
        self.finalizer = weakref.finalize(self, store._forget, self.conn)
        # Not at interpreter exit: daemon threads may still be inside a query on this connection, and
        # closing it under them crashes sqlite; the OS closes every handle of an exiting process anyway.
        self.finalizer.atexit = False


class Store:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._open: set[sqlite3.Connection] = set()  # every connection not yet closed
        self._idle: list[sqlite_utils.Database] = []
        # Re-entrant: a lease's finalizer may run (garbage collection) while this thread holds the lock.
        self._lock = threading.RLock()
        self._closed = False
        db = self.db
        db.enable_wal()
        from .migrations import migrate

        migrate(db)

    def _connect(self) -> sqlite_utils.Database:
        sqlite_utils = load_sqlite_utils()
        conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        with self._lock:
            self._open.add(conn)
        return sqlite_utils.Database(conn)

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection: sqlite connections must not be used by two threads at once."""
        lease = getattr(self._local, "lease", None)
        if lease is None:
            with self._lock:
                db = self._idle.pop() if self._idle else None
            lease = _Lease(self, db or self._connect())
            self._local.lease = lease
        return lease.db

    def release(self) -> None:
        """Give this thread's connection back (end of a request, end of a worker's run)."""
        lease = getattr(self._local, "lease", None)
        if lease is None:
            return
        self._local.lease = None
        lease.finalizer.detach()
        conn = lease.conn
        try:
            if conn.in_transaction:
                conn.rollback()
        except sqlite3.Error:
            self._forget(conn)
            return
        with self._lock:
            if not self._closed and len(self._idle) < POOL_SIZE:
                self._idle.append(lease.db)
                return
        self._forget(conn)

    def _forget(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            self._open.discard(conn)
            self._idle = [db for db in self._idle if db.conn is not conn]
        try:
            conn.close()
        except sqlite3.Error:
            pass

    @property
    def open_connections(self) -> int:
        """How many connections are open now (in use or idle): the leak tests watch this."""
        with self._lock:
            return len(self._open)

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        """Close the idle connections and this thread's. A connection another thread still holds is closed
        when that thread releases it or ends: closing it under a query running there can crash sqlite."""
        lease = getattr(self._local, "lease", None)
        with self._lock:
            self._closed = True
            idle = [db.conn for db in self._idle]
            self._idle.clear()
        for conn in idle:
            self._forget(conn)
        if lease is not None:
            self._local.lease = None
            lease.finalizer.detach()
            self._forget(lease.conn)

    # Settings: a key/value table whose values are JSON, so any setting can be a dict or list.

    def get_setting(self, key: str, default=None):
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else default

    def get_settings(self) -> dict:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM settings")}

    def set_setting(self, key: str, value) -> None:
        self.db["settings"].upsert(
            {"key": key, "value": json.dumps(value, ensure_ascii=False), "updated_at": time.time()},
            pk="key",
        )
