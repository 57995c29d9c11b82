"""Desktop integration endpoints, the system monitor and the single-instance lock."""

from __future__ import annotations

import json

import pytest

from server import create_app
from server.instance import InstanceLock
from server.paths import safe_join
from server.system import desktop
from tests.conftest import TOKEN


def test_open_folder_opens_only_app_folders(api, data_dir, monkeypatch):
    opened = []
    # The test machine has no file manager; the seam records what would be opened.
    monkeypatch.setattr(desktop, "OPENER", lambda path, reveal=False: opened.append(path))
    assert api.post("/api/app/open-folder", json={"folder": "data"}).json["opened"] == str(data_dir)
    assert api.post("/api/app/open-folder", json={"folder": "logs"}).status_code == 200
    assert opened == [data_dir, data_dir / "logs"]
    resp = api.post("/api/app/open-folder", json={"folder": "/etc"})
    assert resp.status_code == 422 and resp.json["error"]["code"] == "unknown_folder"


def test_open_folder_failure_is_reported(api, data_dir, monkeypatch):
    def fail(path, reveal=False):
        raise FileNotFoundError("xdg-open")

    monkeypatch.setattr(desktop, "OPENER", fail)
    resp = api.post("/api/app/open-folder", json={"folder": "data"})
    assert resp.status_code == 500 and resp.json["error"]["code"] == "open_failed"
    # the UI names the folder in the user's language from details.path (err.open_failed)
    assert resp.json["error"]["details"]["path"] == str(data_dir)


def test_focus_and_quit_without_window(api):
    assert api.post("/api/app/focus").json == {"focused": False}
    assert api.post("/api/app/quit").json["error"]["code"] == "not_supported"


def test_system_snapshot_without_gpu(api):
    snap = api.get("/api/system?history=1").json
    assert snap["gpu_available"] is False and snap["gpus"] == []
    assert snap["ram_total_mb"] > 0 and snap["cpu_count"] >= 1
    assert isinstance(snap["history"], list) and snap["history"]


def test_system_snapshot_from_recorded_readings(tmp_path, data_dir):
    frames = [[{"index": 0, "name": "NVIDIA GeForce RTX 4090", "memory_total_mb": 24564, "memory_used_mb": 1200,
                "utilization_pct": 3, "temperature_c": 41, "fan_pct": 30, "memory_clock_mhz": 10501,
                "power_w": 35.2, "power_limit_w": 450.0}]]
    rec = tmp_path / "nvml.json"
    rec.write_text(json.dumps(frames))
    app = create_app(data_dir=data_dir, token=TOKEN, gpu_provider=f"recorded:{rec}")
    snap = app.test_client().get("/api/system", headers={"X-Workbench-Token": TOKEN}).json
    assert snap["gpu_available"] is True
    assert snap["gpus"][0]["name"] == "NVIDIA GeForce RTX 4090"
    assert snap["gpus"][0]["memory_total_mb"] == 24564
    app.extensions["workbench"].shutdown()


def test_nvml_provider_without_driver_reports_no_gpu():
    from server.system.gpu import NvmlProvider

    provider = NvmlProvider()
    if provider.available:
        pytest.skip("this machine has an NVIDIA driver")
    assert provider.read() == [] and provider.error


def test_instance_lock_is_exclusive(tmp_path):
    first, second = InstanceLock(tmp_path), InstanceLock(tmp_path)
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/etc/passwd"])
def test_safe_join_refuses_escapes(tmp_path, name):
    with pytest.raises(ValueError):
        safe_join(tmp_path, name)


def test_safe_join_allows_inside(tmp_path):
    assert safe_join(tmp_path, "a", "b.png") == (tmp_path / "a" / "b.png").resolve()


def test_default_data_dir_portable_and_per_user(monkeypatch, tmp_path):
    from server import paths

    monkeypatch.setattr(paths, "program_dir", lambda: tmp_path)
    assert not paths.is_portable()
    assert paths.default_data_dir() != tmp_path / "data"
    (tmp_path / paths.PORTABLE_MARKER).write_text("")
    assert paths.is_portable()
    assert paths.default_data_dir() == tmp_path / "data"
