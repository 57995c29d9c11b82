"""Each feature owns its tables: others call its functions (jobs.active_of_kind, tasks.running_count,
datasets.storage.find / trigger_word) instead of writing SQL against them."""

from __future__ import annotations

import re
import time
from pathlib import Path

from server.datasets import storage
from server.jobs import active_of_kind
from server.training import tasks

ROOT = Path(__file__).resolve().parents[2]
# table (or table-name prefix) -> the package that owns it; store/ owns settings, migrations create all.
OWNERS = {"dataset": "server/datasets", "task": "server/training", "jobs": "server/jobs", "settings": "server/store"}
TABLE_USE = re.compile(r"""\b(?:FROM|INTO|UPDATE|JOIN)\s+([a-z_]+)|\bdb\[["']([a-z_]+)["']\]""")


def foreign_queries(root: Path) -> list[str]:
    found = []
    for path in sorted((root / "server").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == "server/store/migrations.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in TABLE_USE.finditer(line):
                table = m.group(1) or m.group(2)
                owner = next((o for prefix, o in OWNERS.items() if table.startswith(prefix)), None)
                if owner and not rel.startswith(owner + "/"):
                    found.append(f"{rel}:{n}: {table}")
    return found


def test_no_feature_queries_another_features_tables():
    assert foreign_queries(ROOT) == []


def test_the_scan_sees_a_foreign_query(tmp_path):
    (tmp_path / "server" / "runtime").mkdir(parents=True)
    (tmp_path / "server" / "runtime" / "x.py").write_text(
        'store.db.execute("SELECT COUNT(*) FROM tasks WHERE status = ?")\nstore.db["dataset_items"].insert({})\n',
        encoding="utf-8")
    assert foreign_queries(tmp_path) == ["server/runtime/x.py:1: tasks", "server/runtime/x.py:2: dataset_items"]


def test_the_owners_answer(svc):
    store, now = svc.store, time.time()
    assert active_of_kind(store, "runtime_setup") is None and tasks.running_count(store) == 0
    store.db["jobs"].insert({"id": "j1", "kind": "runtime_setup", "title": "Set up", "status": "done", "created_at": now})
    store.db["jobs"].insert({"id": "j2", "kind": "runtime_setup", "title": "Repair", "status": "running",
                             "created_at": now + 1})
    assert active_of_kind(store, "runtime_setup") == {"id": "j2", "kind": "runtime_setup", "title": "Repair",
                                                      "status": "running"}
    store.db["tasks"].insert({"id": "t1", "name": "a", "status": "stopping", "created_at": now})
    store.db["tasks"].insert({"id": "t2", "name": "b", "status": "done", "created_at": now})
    assert tasks.running_count(store) == 1
    store.db["datasets"].insert({"id": "ds_00000001", "name": "Cats", "type": "image", "created_at": now,
                                 "updated_at": now, "trigger_word": " ohwx "})
    assert storage.find(store, "ds_00000001") == {"id": "ds_00000001", "name": "Cats", "type": "image",
                                                  "trashed_at": None, "trigger_word": " ohwx "}
    assert storage.trigger_word(store, "ds_00000001") == "ohwx" and storage.trigger_word(store, "ds_missing0") is None
    assert storage.find(store, "ds_missing0") is None
