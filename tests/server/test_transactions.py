"""One way to run a multi-statement write: `server.store.transaction(db)` (sqlite-utils' db.atomic()).

`with db.conn:` commits the first write of its block alone (sqlite-utils commits a write made outside a
transaction) and commits an outer transaction on exit; a hand-written BEGIN/COMMIT skips the nesting.
The scan keeps them out of server/; the migrations, the last straggler, are one transaction per step."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from server.store import Store, migrations, transaction

ROOT = Path(__file__).resolve().parents[2]
OTHER_WAYS = re.compile(
    r"with\s+[\w.\[\]()]*\bconn\s*:"                                                  # with db.conn:
    r"|\.atomic\(\)"                                                                   # db.atomic()
    r"|\.(?:commit|rollback|begin)\(\)"                                                # conn.commit()...
    r"""|execute\(\s*f?["']\s*(?:BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|END)\b""",   # execute("BEGIN")
    re.IGNORECASE)
THE_ONE = "server/store/__init__.py"   # transaction() itself, and the pool's rollback of a dropped connection


def other_ways(root: Path) -> list[str]:
    found = []
    for path in sorted((root / "server").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == THE_ONE:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OTHER_WAYS.search(line):
                found.append(f"{rel}:{n}: {line.strip()}")
    return found


def test_every_multi_statement_write_goes_through_store_transaction():
    assert other_ways(ROOT) == []


def test_the_scan_sees_the_other_ways(tmp_path):
    (tmp_path / "server" / "x").mkdir(parents=True)
    (tmp_path / "server" / "x" / "a.py").write_text(
        "with db.conn:\n    pass\nwith self.store.db.atomic():\n    pass\nsvc.store.db.conn.commit()\n"
        'db.execute("BEGIN IMMEDIATE")\n'
        'db.execute("CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END")\nwith transaction(db):\n    pass\n',
        encoding="utf-8")
    assert [f.split(": ", 1)[0] for f in other_ways(tmp_path)] == [
        "server/x/a.py:1", "server/x/a.py:3", "server/x/a.py:5", "server/x/a.py:6"]


def test_a_nested_block_that_fails_undoes_only_its_own_writes(tmp_path):
    db = sqlite_utils.Database(tmp_path / "t.db")
    db["t"].create({"k": str}, pk="k")
    with transaction(db):
        db["t"].insert({"k": "outer"})
        with pytest.raises(RuntimeError):
            with transaction(db):
                db["t"].insert({"k": "inner"})
                raise RuntimeError
        assert db.conn.in_transaction
    assert [r["k"] for r in db["t"].rows] == ["outer"]
    db.close()


def test_savepoints_nest_and_each_undoes_only_its_own_writes(tmp_path):
    """Every nested block's savepoint has the same name: a failure two levels down undoes that level only,
    and the level above it goes on writing and commits with the rest."""
    db = sqlite_utils.Database(tmp_path / "t.db")
    db["t"].create({"k": str}, pk="k")
    with transaction(db):
        db["t"].insert({"k": "outer"})
        with transaction(db):
            db["t"].insert({"k": "middle"})
            with pytest.raises(RuntimeError):
                with transaction(db):
                    db["t"].insert({"k": "inner"})
                    raise RuntimeError
            db["t"].insert({"k": "middle, after"})
        with pytest.raises(RuntimeError):
            with transaction(db):
                db["t"].insert({"k": "second"})
                with transaction(db):
                    db["t"].insert({"k": "second, inner"})
                raise RuntimeError
    assert sorted(r["k"] for r in db["t"].rows) == ["middle", "middle, after", "outer"]
    db.close()


def test_a_migration_step_that_fails_half_way_changes_nothing_and_runs_again(tmp_path, monkeypatch):
    shipped = list(migrations.MIGRATIONS)
    path = tmp_path / "workbench.db"
    Store(path).close()   # a database at the shipped schema

    def half_done(db):   # a new step: its first writes go through, then it fails (a full disk, a crash)
        db["new_feature"].create({"id": str}, pk="id")
        db["jobs"].add_column("new_col", str)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(migrations, "MIGRATIONS", shipped + [half_done])
    with pytest.raises(sqlite3.OperationalError):
        Store(path)
    db = sqlite_utils.Database(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(shipped)
    assert "new_feature" not in db.table_names() and "new_col" not in db["jobs"].columns_dict
    db.close()

    def whole(db):
        db["new_feature"].create({"id": str}, pk="id")
        db["jobs"].add_column("new_col", str)

    monkeypatch.setattr(migrations, "MIGRATIONS", shipped + [whole])
    store = Store(path)
    try:
        assert store.schema_version == len(shipped) + 1
        assert "new_feature" in store.db.table_names() and "new_col" in store.db["jobs"].columns_dict
    finally:
        store.close()


def test_a_transaction_that_reads_first_can_still_write_while_others_write(tmp_path):
    """A caption save (read the step to coalesce, then write) while the thumbnail job indexed its batch
    failed at once with "database is locked": a deferred BEGIN starts as a reader, and in WAL mode a
    reader whose snapshot another connection has written past can never become a writer, whatever the
    busy timeout. transaction() takes the write lock first, so the other writer waits for it instead."""
    store = Store(tmp_path / "t.db")
    try:
        db = store.db
        db.execute("CREATE TABLE t (k INTEGER)")
        other = sqlite3.connect(str(tmp_path / "t.db"), timeout=0, isolation_level=None)
        try:
            with transaction(db):
                db.execute("SELECT COUNT(*) FROM t").fetchone()
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("INSERT INTO t VALUES (1)")   # it has to wait for this transaction
                db.execute("INSERT INTO t VALUES (2)")   # with a deferred BEGIN: "database is locked" here
            other.execute("INSERT INTO t VALUES (1)")      # and writes once it has committed
            assert sorted(r[0] for r in db.execute("SELECT k FROM t")) == [1, 2]
        finally:
            other.close()
    finally:
        store.close()
