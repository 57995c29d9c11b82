"""The tagging job end to end through the API: real datasets, real captions on disk, undo."""

from __future__ import annotations

import time

import pytest
from PIL import Image

from server.datasets import items, storage

from .chat_server import ChatServer
from .file_server import FileServer
from .tiny_wd14 import build_model_dir

KEY = "sk-live-abcdefghijklmnop"
RED_TAGS = "red background, hatsune miku, ^_^, long hair, solo, simple background"


@pytest.fixture
def model_dir(tmp_path):
    return build_model_dir(tmp_path / "tiny")


def make_dataset(svc, files: dict[str, tuple | bytes], captions: dict[str, str] | None = None) -> str:
    ds = storage.create(svc, "Test set", "image")
    media = storage.dataset_dirs(svc.layout, ds["id"]).ensure().media
    for name, spec in files.items():
        if isinstance(spec, bytes):
            (media / name).write_bytes(spec)
        else:
            Image.new("RGB", (40, 40), spec).save(media / name)
    for name, text in (captions or {}).items():
        (media / name).with_suffix(".txt").write_text(text, encoding="utf-8")
    items.rescan(svc, ds["id"])
    return ds["id"]


def caption(svc, ds_id: str, name: str) -> str | None:
    path = storage.dataset_dirs(svc.layout, ds_id).media / name
    txt = path.with_suffix(".txt")
    return txt.read_text(encoding="utf-8") if txt.exists() else None


def run(api, svc, ds_id: str, body: dict, timeout: float = 30) -> dict:
    resp = api.post(f"/api/datasets/{ds_id}/autotag", json=body)
    assert resp.status_code == 202, resp.get_json()
    return svc.jobs.wait(resp.get_json()["job"]["id"], timeout=timeout)


def test_wd14_only_empty_then_overwrite_then_one_undo(api, svc, model_dir):
    assert api.patch("/api/settings", json={"tagging_wd14_model_dir": str(model_dir)}).status_code == 200
    ds_id = make_dataset(svc, {"red.png": (255, 0, 0), "blue.png": (0, 0, 255), "broken.png": b"junk"},
                         {"blue.png": "keep me"})
    sub = svc.bus.subscription()
    sub.subscribe(f"dataset:{ds_id}", "job:*")
    job = run(api, svc, ds_id, {"backend": "wd14", "mode": "only_empty", "trigger": "ohwx"})
    assert job["status"] == "done", job
    result = job["result"]
    assert (result["changed"], result["skipped"], result["failed"], result["processed"]) == (1, 1, 1, 2)
    assert result["outcome"] == "partial"
    assert result["errors"][0]["name"] == "broken.png" and result["errors"][0]["code"] == "bad_image"
    assert caption(svc, ds_id, "red.png") == f"ohwx, {RED_TAGS}"
    assert caption(svc, ds_id, "blue.png") == "keep me"
    events = [sub.get(timeout=0) for _ in range(sub.queue.qsize())]
    updated = [e["data"]["name"] for e in events if e["type"] == "item_updated"]
    assert updated == ["red.png"]
    item_events = [e["data"] for e in events if e["type"] == "tagging_item"]
    assert {e["name"]: e["ok"] for e in item_events} == {"red.png": True, "broken.png": False}
    progress = [e["data"] for e in events if e["type"] == "tagging_progress"]
    assert progress[-1]["done"] == progress[-1]["total"] == 2 and progress[-1]["rate"] > 0

    job = run(api, svc, ds_id, {"backend": "wd14", "mode": "overwrite", "blacklist": ["solo", "long_hair"],
                                "options": {"character_threshold": 0.95}})
    assert job["result"]["changed"] == 2
    assert caption(svc, ds_id, "red.png") == "red background, ^_^, simple background"
    assert caption(svc, ds_id, "blue.png").startswith("blue background")
    history = api.get(f"/api/datasets/{ds_id}/history").get_json()
    assert history["undo"]["label"] == "Auto-tag (WD14)" and history["undo"]["item_count"] == 2

    assert api.post(f"/api/datasets/{ds_id}/undo").status_code == 200
    assert caption(svc, ds_id, "red.png") == f"ohwx, {RED_TAGS}"
    assert caption(svc, ds_id, "blue.png") == "keep me"


def test_a_run_where_every_item_fails_is_a_failed_job_with_its_errors(api, svc, model_dir):
    assert api.patch("/api/settings", json={"tagging_wd14_model_dir": str(model_dir)}).status_code == 200
    ds_id = make_dataset(svc, {"a.png": b"junk", "b.png": b"more junk"})
    job = run(api, svc, ds_id, {"backend": "wd14", "mode": "overwrite"})
    assert job["status"] == "failed", job
    result = job["result"]
    assert result["outcome"] == "failed" and (result["changed"], result["failed"]) == (0, 2)
    assert sorted(e["name"] for e in result["errors"]) == ["a.png", "b.png"]
    assert "All 2 items failed" in job["error"]
    assert (job["error_code"], job["error_params"]) == ("tag_all_failed", {"failed": 2})  # what the UI translates
    assert api.get(f"/api/jobs/{job['id']}").get_json()["job"]["status"] == "failed"


def test_api_backend_appends_to_the_selection_with_the_trigger_in_the_prompt(api, svc, tmp_path):
    ds_id = make_dataset(svc, {"a.png": (10, 20, 30), "b.png": (30, 20, 10), "c.png": (0, 0, 0)},
                         {"a.png": "ohwx, old words"})
    ids = {r["name"]: r["id"] for r in svc.store.db["dataset_items"].rows_where("dataset_id = ?", [ds_id])}
    with ChatServer(caption="A small square.\n\nIt is dark.") as server:
        api.patch("/api/settings", json={"tagging_api_base_url": server.base_url, "tagging_api_key": KEY,
                                         "tagging_api_preset": "custom", "tagging_api_model": "vl-test",
                                         "tagging_api_prompt": "Caption it.\nName the subject {trigger}."})
        job = run(api, svc, ds_id, {"backend": "openai_api", "mode": "append", "trigger": "ohwx",
                                    "target": {"ids": [ids["a.png"], ids["b.png"]]}})
    assert job["status"] == "done" and job["result"]["changed"] == 2
    assert caption(svc, ds_id, "a.png") == "ohwx, old words A small square. It is dark."
    assert caption(svc, ds_id, "b.png") == "ohwx, A small square. It is dark."
    assert caption(svc, ds_id, "c.png") is None
    assert len(server.requests) == 2
    for req in server.requests:
        assert req["headers"]["Authorization"] == f"Bearer {KEY}"
        assert req["body"]["model"] == "vl-test"
        assert req["body"]["messages"][0]["content"][0]["text"] == "Caption it.\nName the subject ohwx."
    assert KEY not in str(job)


def test_cancel_stops_the_run_and_undo_covers_what_was_written(api, svc):
    ds_id = make_dataset(svc, {f"{i:02d}.png": (i * 20, 0, 0) for i in range(10)})
    with ChatServer(caption="a red square", delay=0.25) as server:
        resp = api.post(f"/api/datasets/{ds_id}/autotag", json={
            "backend": "openai_api", "mode": "overwrite",
            "options": {"base_url": server.base_url, "api_key": KEY, "preset": "custom", "parallel": 1}})
        job_id = resp.get_json()["job"]["id"]
        deadline = time.monotonic() + 10
        while svc.jobs.get(job_id)["done"] < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        api.post(f"/api/jobs/{job_id}/cancel")
        job = svc.jobs.wait(job_id, timeout=10)
    assert job["status"] == "cancelled" and job["result"]["cancelled"] is True
    written = job["result"]["changed"]
    assert 2 <= written < 10
    assert sum(caption(svc, ds_id, f"{i:02d}.png") is not None for i in range(10)) == written
    api.post(f"/api/datasets/{ds_id}/undo")
    assert all(caption(svc, ds_id, f"{i:02d}.png") is None for i in range(10))


def test_bad_requests_are_refused_before_a_job_starts(api, svc):
    ds_id = make_dataset(svc, {"a.png": (1, 2, 3)})
    cases = [({"mode": "replace"}, 422, "bad_mode"), ({"backend": "nope"}, 422, "unknown_backend"),
             ({"backend": "wd14", "options": {"threshold": 1}}, 422, "unknown_option"),
             ({"backend": "wd14", "options": {"general_threshold": 3}}, 422, "validation_error"),
             ({"target": {"ids": [999]}}, 422, "unknown_items"), ({"trigger": "a, b"}, 422, "bad_trigger")]
    for body, status, code in cases:
        resp = api.post(f"/api/datasets/{ds_id}/autotag", json=body)
        assert (resp.status_code, resp.get_json()["error"]["code"]) == (status, code), body
    assert api.post("/api/datasets/ds_00000000/autotag", json={}).status_code == 404
    assert svc.jobs.list() == []


def test_backends_listing_and_masked_key(api):
    api.patch("/api/settings", json={"tagging_api_key": KEY})
    assert api.get("/api/settings").get_json()["settings"]["tagging_api_key"] == "••••••mnop"
    data = api.get("/api/tagging/backends").get_json()
    assert [b["name"] for b in data["backends"]] == ["wd14", "openai_api", "musubi_qwen_vl"]
    api_opts = {o["name"]: o for o in data["backends"][1]["options"]}
    assert api_opts["base_url"]["setting"] == "tagging_api_base_url" and api_opts["api_key"]["default"] is None
    presets = {p["name"]: p for p in data["presets"]}
    assert presets["dashscope"]["base_url"].endswith("/compatible-mode/v1") and presets["ollama"]["local"]
    assert data["wd14"]["providers"][-1] == "CPUExecutionProvider"
    assert KEY not in str(data)


def test_test_endpoint_uses_the_saved_key_behind_a_masked_value(api, svc):
    with ChatServer(caption="a red ball over grass") as server:
        api.patch("/api/settings", json={"tagging_api_key": KEY, "tagging_api_base_url": server.base_url,
                                         "tagging_api_preset": "custom"})
        resp = api.post("/api/tagging/test", json={"backend": "openai_api",
                                                   "options": {"api_key": "••••••mnop", "model": "m2"}})
        job = svc.jobs.wait(resp.get_json()["job"]["id"])
        assert job["result"]["ok"] is True and job["result"]["caption"] == "a red ball over grass"
        assert server.requests[0]["headers"]["Authorization"] == f"Bearer {KEY}"
        server.script = [(401, {"error": {"message": f"bad key {KEY}"}}, {})]
        job = svc.jobs.wait(api.post("/api/tagging/test", json={"backend": "openai_api"}).get_json()["job"]["id"])
    assert job["status"] == "done" and job["result"]["ok"] is False
    assert job["result"]["error"]["code"] == "unauthorized" and KEY not in str(job)


def test_download_endpoint_and_model_listing(api, svc, tmp_path):
    repo = "SmilingWolf/wd-tiny-tagger-v3"
    build_model_dir(tmp_path / "hf" / repo)
    with FileServer(tmp_path / "hf") as hf:
        api.patch("/api/settings", json={"tagging_hf_endpoint": hf.endpoint})
        job = svc.jobs.wait(api.post("/api/tagging/models/download", json={"repo": repo}).get_json()["job"]["id"])
    assert job["status"] == "done" and job["done"] == job["total"] > 0
    listed = api.get("/api/tagging/models").get_json()["downloaded"]
    assert listed == [{"repo": repo, "path": job["result"]["path"]}]
    bad = api.post("/api/tagging/models/download", json={"repo": "../../etc"})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "bad_repo_id"
    # The downloaded model is what the WD14 backend uses when no local folder is set.
    api.patch("/api/settings", json={"tagging_wd14_repo": repo})
    test = svc.jobs.wait(api.post("/api/tagging/test", json={"backend": "wd14"}).get_json()["job"]["id"])
    assert test["result"]["ok"] is True and test["result"]["input_size"] == 32
