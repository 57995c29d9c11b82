"""The tasks API: task-type table, CRUD, preview, start/stop over HTTP, outputs, loss, log, convert.

Runs that start processes use the STAND-IN trainer (tests/standin/fake_musubi) in place of musubi.
"""

from __future__ import annotations

import tomllib

from server.training import tasks

from tests.models.helpers import qwen_dit, write_st

from .conftest import add_dataset, point_at_standin, qwen_task


def test_task_types_table(api):
    resp = api.get("/api/task-types")
    assert resp.status_code == 200
    body = resp.get_json()
    ids = {t["id"] for t in body["task_types"]}
    assert ids == {"qwen-image-lora", "qwen-image-edit-lora", "qwen-image-layered-lora", "kontext-lora", "wan2.2-lora",
                   "wan2.1-lora", "wan2.1-1f-lora", "flux2-lora", "zimage-lora", "hunyuan-video-lora",
                   "hunyuan-video-1.5-lora", "framepack-lora", "framepack-1f-lora", "kandinsky5-lora",
                   "krea2-lora", "hidream-o1-lora", "ideogram4-lora"}
    assert body["presets"] == ["high", "medium", "low"] and body["musubi"]["version"]
    qwen = next(t for t in body["task_types"] if t["id"] == "qwen-image-lora")
    assert qwen["scripts"]["train"] == "qwen_image_train_network" and qwen["max_blocks_to_swap"] == 59
    variant = qwen["variants"][0]
    assert variant["presets"]["low"]["blocks_to_swap"] == 45
    assert variant["vram_estimate_gb"]["high"] > variant["vram_estimate_gb"]["low"]
    fields = {f["key"]: f for f in qwen["fields"]}
    assert fields["learning_rate"]["default"] == 5e-5 and fields["learning_rate"]["label_key"]
    assert "target_frames" not in fields and "experts" not in fields
    wan22 = next(t for t in body["task_types"] if t["id"] == "wan2.2-lora")
    assert {f["key"] for f in wan22["fields"]} >= {"experts", "target_frames"}
    assert [v["timestep_boundary"] for v in wan22["variants"]] == [875, 900]
    hv = next(t for t in body["task_types"] if t["id"] == "hunyuan-video-lora")
    assert "fp8_scaled" not in {f["key"] for f in hv["fields"]}
    assert all(m["label_key"] for t in body["task_types"] for m in t["models"])


def test_crud_clone_and_delete(api, svc, models):
    add_dataset(svc)
    resp = api.post("/api/tasks", json=qwen_task(models))
    assert resp.status_code == 201, resp.get_json()
    task = resp.get_json()["task"]
    assert task["status"] == "draft" and task["id"].startswith("task_")
    folder = tasks.paths(svc.layout, task["id"]).root
    assert folder.is_dir()

    resp = api.patch(f"/api/tasks/{task['id']}", json={"name": "Renamed", "training": {"network_dim": 8,
                                                                                         "max_train_epochs": 3}})
    assert resp.status_code == 200
    assert resp.get_json()["task"]["config"]["training"]["network_dim"] == 8
    bad = api.patch(f"/api/tasks/{task['id']}", json={"training": {"network_dim": "x"}})
    assert bad.status_code == 422 and bad.get_json()["error"]["details"]["field"] == "training.network_dim"

    clone = api.post(f"/api/tasks/{task['id']}/clone", json={}).get_json()["task"]
    assert clone["name"] == "Renamed (copy)" and clone["id"] != task["id"]
    listed = api.get("/api/tasks").get_json()
    assert {t["id"] for t in listed["tasks"]} == {task["id"], clone["id"]} and listed["queue"] == []

    assert api.delete(f"/api/tasks/{clone['id']}?keep_files=1").status_code == 200
    assert tasks.paths(svc.layout, clone["id"]).root.is_dir()
    # trained files are removed only when the caller confirms
    (tasks.paths(svc.layout, task["id"]).output / "Renamed-000001.safetensors").parent.mkdir(parents=True, exist_ok=True)
    (tasks.paths(svc.layout, task["id"]).output / "Renamed-000001.safetensors").write_bytes(b"lora")
    refused = api.delete(f"/api/tasks/{task['id']}")
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "confirm_required"
    assert (tasks.paths(svc.layout, task["id"]).output / "Renamed-000001.safetensors").is_file()
    assert api.delete(f"/api/tasks/{task['id']}?confirm=1").status_code == 200
    assert not folder.exists()
    assert api.get(f"/api/tasks/{task['id']}").status_code == 404


def test_create_refuses_bad_config(api):
    resp = api.post("/api/tasks", json={"name": "x", "task_type": "nope"})
    assert resp.status_code == 422 and resp.get_json()["error"]["details"]["field"] == "task_type"


def test_preview(api, svc, models, tmp_path):
    add_dataset(svc)
    svc.store.set_setting("musubi_dir", str(tmp_path / "no-musubi-here"))
    resp = api.post("/api/tasks/preview", json=qwen_task(models))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert [s["name"] for s in body["stages"]] == ["cache_latents", "cache_text_encoder", "train"]
    assert body["stages"][2]["env"]["CUDA_VISIBLE_DEVICES"] == "0"
    doc = tomllib.loads(body["files"]["dataset.toml"])
    assert doc["datasets"][0]["image_directory"].endswith("ds_0000c0de/media")
    assert "a cat --w 1024 --h 1024" in body["files"]["sample_prompts.txt"]
    assert 10 < body["vram_estimate_gb"] < 14
    assert body["dataset"] == {"id": "ds_0000c0de", "name": "Cats", "type": "image", "media_count": 3}
    assert any("no-musubi-here" in w for w in body["warnings"])   # previews work before musubi is installed
    # ...and say, as data, what stops a start (the create form refuses before saving a task)
    assert {p["setting"] for p in body["trainer_problems"]} >= {"musubi_dir"}
    assert any("no-musubi-here" in p["message"] for p in body["trainer_problems"])
    assert not list(svc.layout.tasks.iterdir())                  # nothing written

    missing = api.post("/api/tasks/preview", json={**qwen_task(models), "dataset_id": "ds_deadbeef"})
    assert missing.status_code == 422 and missing.get_json()["error"]["details"]["field"] == "dataset_id"
    add_dataset(svc, "ds_0000beef", type_="video")
    wrong = api.post("/api/tasks/preview", json={**qwen_task(models), "dataset_id": "ds_0000beef"})
    assert wrong.status_code == 422 and wrong.get_json()["error"]["code"] == "dataset_type"


def test_settings_keys(api):
    resp = api.patch("/api/settings", json={"musubi_dir": "relative/path"})
    assert resp.status_code == 422
    resp = api.patch("/api/settings", json={"musubi_dir": "/opt/musubi-tuner", "musubi_python": ""})
    assert resp.status_code == 200 and resp.get_json()["settings"]["musubi_dir"] == "/opt/musubi-tuner"


def test_run_over_http(api, svc, models):
    point_at_standin(svc.store)
    add_dataset(svc)
    task = api.post("/api/tasks", json=qwen_task(models)).get_json()["task"]
    resp = api.post(f"/api/tasks/{task['id']}/start")
    assert resp.status_code == 200 and resp.get_json()["task"]["status"] in ("queued", "running")
    assert api.post(f"/api/tasks/{task['id']}/start").status_code == 409
    busy = api.patch(f"/api/tasks/{task['id']}", json={"name": "x"})
    assert busy.status_code == 409
    assert api.delete(f"/api/tasks/{task['id']}").status_code == 409
    done = svc.supervisor.wait(task["id"], timeout=30)
    assert done["status"] == "done", done["error"]

    out = api.get(f"/api/tasks/{task['id']}/outputs").get_json()
    assert [c["file"] for c in out["checkpoints"]] == ["Cat_LoRA-000001.safetensors", "Cat_LoRA.safetensors"]
    assert len(out["samples"]) == 4 and out["states"][0]["dir"] == "Cat_LoRA-000001-state"
    sample = api.get(f"/api/tasks/{task['id']}/files/{out['samples'][0]['file']}")
    assert sample.status_code == 200
    assert api.get(f"/api/tasks/{task['id']}/files/../dataset.toml").status_code == 404
    loss = api.get(f"/api/tasks/{task['id']}/loss?since=3").get_json()["points"]
    assert [p["step"] for p in loss] == [4, 5, 6]
    log = api.get(f"/api/tasks/{task['id']}/log?stage=train").get_json()
    assert "model saved." in log["text"]

    job = api.post(f"/api/tasks/{task['id']}/convert", json={"file": "Cat_LoRA.safetensors"})
    assert job.status_code == 202
    finished = svc.jobs.wait(job.get_json()["job"]["id"], timeout=20)
    assert finished["status"] == "done", finished["error"]
    assert finished["result"]["file"] == "converted/Cat_LoRA-comfyui.safetensors"
    assert (tasks.paths(svc.layout, task["id"]).output / finished["result"]["file"]).is_file()
    listed = api.get(f"/api/tasks/{task['id']}/outputs").get_json()["converted"]
    assert [(c["file"], c["source"], c["target"]) for c in listed] == [
        ("converted/Cat_LoRA-comfyui.safetensors", "Cat_LoRA.safetensors", "comfyui")]
    missing = api.post(f"/api/tasks/{task['id']}/convert", json={"file": "nope.safetensors"})
    assert missing.status_code == 404
    escape = api.post(f"/api/tasks/{task['id']}/convert", json={"file": "../../x.safetensors"})
    assert escape.status_code == 422


def test_a_model_the_library_calls_broken_cannot_start(api, svc, models, tmp_path):
    """The files Settings' model library rejects (fp8_scaled Qwen DiT, truncated text encoder) are refused
    at start with a coded error naming the field; the task stays a draft."""
    point_at_standin(svc.store)
    add_dataset(svc)
    fp8 = str(qwen_dit(tmp_path / "qwen_image_fp8_scaled.safetensors", fp8_scaled=True))
    te = tmp_path / "te_cut.safetensors"
    write_st(te, {"model.embed_tokens.weight": ("BF16", [64, 64])}, cut=100)
    for role, path, code in (("dit", fp8, "qwen_fp8_dit"), ("text_encoder", str(te), None)):
        task = api.post("/api/tasks", json=qwen_task({**models, role: path})).get_json()["task"]
        resp = api.post(f"/api/tasks/{task['id']}/start")
        assert resp.status_code == 422, resp.get_json()
        err = resp.get_json()["error"]
        assert err["code"] == "model_file_error" and err["details"]["field"] == f"models.{role}"
        assert err["details"]["path"] == path and err["details"]["reason"]
        if code:
            assert code in [p["code"] for p in err["details"]["problems"]]
        assert api.get(f"/api/tasks/{task['id']}").get_json()["task"]["status"] == "draft"
