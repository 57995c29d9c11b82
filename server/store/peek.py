"""Read one stored setting with the standard library's sqlite3, before a Store (sqlite-utils) is opened.

The launcher sizes the window from the last session's geometry while the app is still being built on
another thread (launcher.py); opening the Store here would load sqlite-utils on the window's path.
Read-only: a data folder without a database yet (first launch) or a settings table not made yet
(a database from before its migration) reads as no setting.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path


def peek_setting(database: Path, key: str, default=None):
    if not database.is_file():
        return default
    try:
        con = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=2)
        try:
            row = con.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        finally:
            con.close()
        return json.loads(row[0]) if row else default
    except (sqlite3.Error, ValueError):  # locked, damaged or older than the table: the defaults will do
        return default
