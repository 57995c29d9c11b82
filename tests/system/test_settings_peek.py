"""The launcher reads the window's last geometry before any Store is opened (server/store/peek.py)."""

from __future__ import annotations

import sqlite3

from server.store import Store
from server.store.peek import peek_setting


def test_peek_reads_what_the_store_wrote_and_creates_nothing(tmp_path):
    db = tmp_path / "data" / "workbench.db"
    assert peek_setting(db, "window", {"w": 1}) == {"w": 1} and not db.exists()   # first launch
    store = Store(db)
    store.set_setting("window", {"width": 1234, "maximized": True})
    store.close()
    assert peek_setting(db, "window") == {"width": 1234, "maximized": True}
    assert peek_setting(db, "other") is None


def test_peek_of_a_database_without_settings_is_the_default(tmp_path):
    db = tmp_path / "old.db"
    sqlite3.connect(db).close()
    assert peek_setting(db, "window", {}) == {}
