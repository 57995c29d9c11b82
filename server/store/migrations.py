"""Schema migrations, applied in order at start-up.

`PRAGMA user_version` records how many have run. Append new steps; never edit a released one,
because a user's database has already run it.
"""

from __future__ import annotations

import sqlite_utils


def _m001_initial(db: sqlite_utils.Database) -> None:
    db["settings"].create({"key": str, "value": str, "updated_at": float}, pk="key", if_not_exists=True)
    db["jobs"].create(
        {
            "id": str, "kind": str, "title": str, "status": str, "done": int, "total": int,
            "message": str, "error": str, "result": str, "params": str, "owner": str,
            "created_at": float, "started_at": float, "finished_at": float,
        },
        pk="id",
        if_not_exists=True,
    )
    db["jobs"].create_index(["status"], if_not_exists=True)
    db["jobs"].create_index(["owner"], if_not_exists=True)


MIGRATIONS = [_m001_initial]


def migrate(db: sqlite_utils.Database) -> int:
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > len(MIGRATIONS):
        raise RuntimeError(
            f"The database was written by a newer LoRA Workbench (schema {current}, "
            f"this version knows {len(MIGRATIONS)}). Update the app or choose another data folder."
        )
    for index in range(current, len(MIGRATIONS)):
        with db.conn:
            MIGRATIONS[index](db)
            db.execute(f"PRAGMA user_version = {index + 1}")
    return len(MIGRATIONS)
