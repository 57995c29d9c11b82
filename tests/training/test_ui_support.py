"""Server pieces the training pages use: extra arguments, user presets, model-path checks, opening a
task's files in the file manager, the whole-run log download, the per-variant VRAM model."""

from __future__ import annotations

from pathlib import Path

from server.system import desktop
from server.training import tasks

from .conftest import add_dataset, point_at_standin, qwen_task


def test_extra_args_reach_the_train_command_and_are_checked(api, svc, models):
    add_dataset(svc)
    body = {**qwen_task(models), "extra_args": ["--max_timestep", "900", "--lr_scheduler_power", "2"]}
    resp = api.post("/api/tasks/preview", json=body)
    assert resp.status_code == 200, resp.get_json()
    train = resp.get_json()["stages"][2]["argv"]
    assert train[-4:] == ["--max_timestep", "900", "--lr_scheduler_power", "2"]
    assert "--max_timestep" not in resp.get_json()["stages"][0]["argv"]

    for bad in (["--no_such_option"], ["--learning_rate", "1"], ["--max_timestep", "lots"], ["900"]):
        resp = api.post("/api/tasks/preview", json={**qwen_task(models), "extra_args": bad})
        assert resp.status_code == 422, bad
        assert resp.get_json()["error"]["details"]["field"] == "extra_args", (bad, resp.get_json())
    assert api.post("/api/tasks", json={**qwen_task(models), "extra_args": "--x"}).status_code == 422

    created = api.post("/api/tasks", json=body).get_json()["task"]
    assert created["config"]["extra_args"] == ["--max_timestep", "900", "--lr_scheduler_power", "2"]
    clone = api.post(f"/api/tasks/{created['id']}/clone", json={}).get_json()["task"]
    assert clone["config"]["extra_args"] == created["config"]["extra_args"]


def test_user_presets_round_trip(api, models):
    assert api.get("/api/task-presets").get_json() == {"presets": []}
    cfg = {**qwen_task(models), "vram_preset": "custom", "training": {"network_dim": 8, "blocks_to_swap": 20}}
    resp = api.put("/api/task-presets/My 4090 setup", json={"config": cfg})
    assert resp.status_code == 200, resp.get_json()
    saved = resp.get_json()["preset"]
    assert saved["name"] == "My 4090 setup" and "name" not in saved["config"] and "dataset_id" not in saved["config"]
    assert saved["config"]["training"] == {"network_dim": 8, "blocks_to_swap": 20}
    listed = api.get("/api/task-presets").get_json()["presets"]
    assert [p["name"] for p in listed] == ["My 4090 setup"]
    bad = api.put("/api/task-presets/x", json={"config": {**cfg, "training": {"network_dim": "big"}}})
    assert bad.status_code == 422 and bad.get_json()["error"]["details"]["field"] == "training.network_dim"
    assert api.delete("/api/task-presets/My 4090 setup").status_code == 200
    assert api.delete("/api/task-presets/My 4090 setup").status_code == 404
    assert api.get("/api/task-presets").get_json()["presets"] == []
    # Not a user setting: the settings page never lists it.
    assert "training_presets" not in api.get("/api/settings").get_json()["settings"]


def test_check_paths(api, models, tmp_path):
    resp = api.post("/api/tasks/check-paths", json={"paths": [models["dit"], str(tmp_path / "nope.safetensors"),
                                                             str(tmp_path), ""]})
    results = resp.get_json()["results"]
    assert results[models["dit"]] == {"exists": True, "is_file": True, "size": Path(models["dit"]).stat().st_size}
    assert results[str(tmp_path / "nope.safetensors")]["exists"] is False
    assert results[str(tmp_path)] == {"exists": True, "is_file": False, "size": None}
    assert results[""]["exists"] is False
    assert api.post("/api/tasks/check-paths", json={"paths": "x"}).status_code == 422


def test_open_task_paths_only_inside_the_task(api, svc, models, monkeypatch):
    opened = []
    monkeypatch.setattr(desktop, "OPENER", lambda path, reveal=False: opened.append((path, reveal)))
    add_dataset(svc)
    task = api.post("/api/tasks", json=qwen_task(models)).get_json()["task"]
    folder = tasks.paths(svc.layout, task["id"])
    (folder.output / "Cat_LoRA.safetensors").write_bytes(b"w")
    assert api.post(f"/api/tasks/{task['id']}/open", json={"path": "output/Cat_LoRA.safetensors",
                                                           "reveal": True}).status_code == 200
    assert api.post(f"/api/tasks/{task['id']}/open", json={}).status_code == 200
    assert opened == [((folder.output / "Cat_LoRA.safetensors").resolve(), True), (folder.root, False)]
    assert api.post(f"/api/tasks/{task['id']}/open", json={"path": "../../"}).status_code == 422
    assert api.post(f"/api/tasks/{task['id']}/open", json={"path": "output/none.bin"}).status_code == 404
    assert api.post("/api/tasks/task_nothere/open", json={}).status_code == 404
    assert len(opened) == 2


def test_log_download_joins_the_stages(api, svc, models):
    point_at_standin(svc.store)
    add_dataset(svc)
    task = api.post("/api/tasks", json=qwen_task(models, epochs=1)).get_json()["task"]
    api.post(f"/api/tasks/{task['id']}/start")
    assert svc.supervisor.wait(task["id"], timeout=30)["status"] == "done"
    resp = api.get(f"/api/tasks/{task['id']}/log/download")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    text = resp.get_data(as_text=True)
    assert text.index("qwen_image_cache_latents") < text.index("qwen_image_train_network") < text.index("model saved.")


def test_each_variant_has_its_vram_model(api):
    table = api.get("/api/task-types").get_json()["task_types"]
    wan21 = next(t for t in table if t["id"] == "wan2.1-lora")
    small = next(v for v in wan21["variants"] if v["key"] == "t2v-1.3B")
    assert small["vram_model"]["weights_bf16_gb"] == 2.8
    assert wan21["variants"][0]["vram_model"] == wan21["vram_model"]
