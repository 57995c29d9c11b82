"""The app's one database: sqlite-utils over `workbench.db` in the data dir.

sqlite connections must not be shared between threads, so each thread (request handlers,
job workers, the training supervisor) gets its own connection to the same file. WAL mode lets
readers run while a writer writes; `busy_timeout` makes a writer wait instead of failing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import sqlite_utils

from .migrations import MIGRATIONS, migrate


class Store:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        db = self.db
        db.enable_wal()
        migrate(db)

    @property
    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            db = sqlite_utils.Database(conn)
            self._local.db = db
            with self._lock:
                self._all.append(conn)
        return db

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    @staticmethod
    def latest_schema_version() -> int:
        return len(MIGRATIONS)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()

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
