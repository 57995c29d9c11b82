"""Settings API and the sqlite store (WAL, migrations, threads)."""

from __future__ import annotations

import threading

import pytest

from server.settings import mask_secret
from server.store import Store
from server.store.migrations import MIGRATIONS


def test_settings_defaults_and_update(api):
    s = api.get("/api/settings").json["settings"]
    assert s["language"] == "zh-CN" and s["theme"] == "system"
    s = api.patch("/api/settings", json={"language": "en", "theme": "dark"}).json["settings"]
    assert s["language"] == "en" and s["theme"] == "dark"
    assert api.get("/api/settings").json["settings"]["language"] == "en"


def test_settings_validation(api):
    resp = api.patch("/api/settings", json={"language": "fr"})
    assert resp.status_code == 422
    assert resp.json["error"]["details"]["field"] == "language"
    resp = api.patch("/api/settings", json={"no_such_key": 1})
    assert resp.status_code == 422 and resp.json["error"]["code"] == "unknown_setting"
    # nothing was half-applied
    assert api.get("/api/settings").json["settings"]["language"] == "zh-CN"


def test_settings_survive_restart(data_dir):
    from server import create_app
    from tests.conftest import TOKEN

    app = create_app(data_dir=data_dir, token=TOKEN, gpu_provider="none")
    app.test_client().patch("/api/settings", json={"theme": "light"}, headers={"X-Workbench-Token": TOKEN})
    app.extensions["workbench"].shutdown()
    app2 = create_app(data_dir=data_dir, token="other", gpu_provider="none")
    body = app2.test_client().get("/api/settings", headers={"X-Workbench-Token": "other"}).json
    assert body["settings"]["theme"] == "light"
    app2.extensions["workbench"].shutdown()


def test_mask_secret_never_shows_the_whole_key():
    assert mask_secret("sk-abcdefghijklmnop") == "••••••mnop"
    assert "abc" not in mask_secret("abc")
    assert mask_secret("") == ""


def test_store_uses_wal_and_runs_all_migrations(tmp_path):
    store = Store(tmp_path / "x.db")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.schema_version == len(MIGRATIONS)
    assert "settings" in store.db.table_names() and "jobs" in store.db.table_names()
    store.close()
    # running again is a no-op
    store = Store(tmp_path / "x.db")
    assert store.schema_version == len(MIGRATIONS)
    store.close()


def test_database_from_a_newer_app_is_refused(tmp_path):
    store = Store(tmp_path / "x.db")
    store.db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    store.close()
    with pytest.raises(RuntimeError, match="newer LoRA Workbench"):
        Store(tmp_path / "x.db")


def test_store_is_safe_from_many_threads(tmp_path):
    store = Store(tmp_path / "x.db")
    errors = []

    def writer(n):
        try:
            for i in range(50):
                store.set_setting(f"k{n}_{i}", {"n": n, "i": i})
                assert store.get_setting(f"k{n}_{i}")["i"] == i
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.get_settings()) == 300
    store.close()
