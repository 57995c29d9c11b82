"""Request bodies are checked once, at the JSON boundary (server/jsonsafe.py via errors.json_body), and
what is already stored can always be read back: a lone surrogate, a NaN or a deep nesting answers a 4xx
with a code, and an old row holding a lone surrogate no longer breaks GET /api/jobs or the websocket."""

from __future__ import annotations

import io
import json
import time

import pytest

from server import create_app
from server.serve import ServerThread
from tests.conftest import TOKEN
from tests.wsclient import Client

from .conftest import add_dataset, png_bytes

DS = "ds_b0dd0001"
HEADERS = {"X-Workbench-Token": TOKEN, "Content-Type": "application/json"}


def _raw(api, method, path, raw):
    return api.client.open(path, method=method, data=raw, headers=HEADERS)


def _error(resp, status, code):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.get_json()["error"]["code"] == code, resp.get_json()
    return resp.get_json()["error"]


@pytest.fixture
def ds(svc):
    add_dataset(svc, DS)
    return DS


@pytest.mark.parametrize("method,path,raw,field", [
    ("POST", "/api/datasets/{ds}/autotag", '{"trigger": "x\\ud800"}', "trigger"),
    ("POST", "/api/datasets", '{"name": "x\\udfff", "type": "image"}', "name"),
    ("PATCH", "/api/settings", '{"tagging_api_model": "m\\ud800"}', "tagging_api_model"),
    ("PUT", "/api/datasets/{ds}/items/1/caption", '{"caption": "a \\ud83d cat"}', "caption"),
    ("POST", "/api/datasets/{ds}/ops", '{"op": "add_tags", "params": {"tags": ["ok", "\\udc00"]}}', "params.tags[1]"),
    ("POST", "/api/datasets", '{"\\ud800": 1}', "(body)"),
], ids=["autotag trigger", "dataset name", "setting", "caption", "nested tag", "key"])
def test_lone_surrogates_are_refused_with_422(api, ds, method, path, raw, field):
    err = _error(_raw(api, method, path.format(ds=ds), raw), 422, "invalid_text")
    assert err["details"]["field"] == field
    assert api.get("/api/jobs").status_code == 200


def test_a_valid_surrogate_pair_is_accepted(api):
    # "\ud83d\ude00" is one emoji written as a UTF-16 pair: legal JSON, decoded to one code point.
    resp = _raw(api, "POST", "/api/datasets", '{"name": "smile \\ud83d\\ude00", "type": "image"}')
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["dataset"]["name"] == "smile \U0001F600"


@pytest.mark.parametrize("raw", ['{"x": NaN}', '{"x": Infinity}', '{"x": -Infinity}', '{"x": 1e400}',
                                 '{"x": [1, {"y": -1e999}]}'])
def test_non_finite_numbers_are_refused(api, raw):
    _error(_raw(api, "PATCH", "/api/settings", raw), 422, "invalid_number")


@pytest.mark.parametrize("raw", ["[" * 100000 + "]" * 100000, '{"a":' * 65 + "1" + "}" * 65])
def test_deep_nesting_is_refused(api, raw):
    _error(_raw(api, "POST", "/api/datasets", raw), 400, "json_too_deep")


@pytest.mark.parametrize("raw", [b'{"a": "\xff"}', b"\xed\xa0\x80", b"null", b"[]"])
def test_bodies_that_are_not_a_json_object_in_utf8(api, raw):
    _error(_raw(api, "PATCH", "/api/settings", raw), 400, "invalid_json")


def test_raw_surrogate_bytes_are_refused_like_the_escape(api):
    # Python's json decodes bytes with "surrogatepass": the CESU-8 bytes of U+D800 become a lone surrogate.
    _error(_raw(api, "PATCH", "/api/settings", b'{"tagging_api_model": "m\xed\xa0\x80"}'), 422, "invalid_text")


def test_nesting_at_the_limit_is_accepted(api):
    # 64 levels of objects is allowed (and then refused for what it is, not for its depth).
    resp = _raw(api, "PATCH", "/api/settings", '{"a":' * 63 + "1" + "}" * 63)
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "unknown_setting"


def test_task_fields_sort_and_gpus(api, ds, tmp_path):
    models = {}
    for key in ("dit", "vae", "text_encoder"):
        (tmp_path / f"{key}.safetensors").write_bytes(b"weights")
        models[key] = str(tmp_path / f"{key}.safetensors")
    task = {"name": "T", "task_type": "qwen-image-lora", "dataset_id": ds, "models": models, "vram_preset": "low",
            "gpus": [0]}
    for raw in ('"training": {"learning_rate": NaN}', '"training": {"max_train_epochs": Infinity}',
                '"samples": {"guidance": -Infinity}', '"training": {"learning_rate": 1e400}'):
        body = json.dumps(task)[:-1] + ", " + raw + "}"
        _error(_raw(api, "POST", "/api/tasks", body), 422, "invalid_number")
        _error(_raw(api, "POST", "/api/tasks/preview", body), 422, "invalid_number")
    err = _error(api.post("/api/tasks", json={**task, "gpus": [[0]]}), 422, "validation_error")
    assert err["details"]["field"] == "gpus"
    _error(_raw(api, "POST", f"/api/datasets/{ds}/ops",
                '{"op": "sort", "params": {"keep_first": Infinity}, "target": {"all": true}}'), 422, "invalid_number")


def test_query_strings_cannot_carry_surrogates(api):
    # Werkzeug decodes percent-escapes as UTF-8 with replacement: the bytes of a lone surrogate arrive
    # as U+FFFD, never as a surrogate (so no separate check is needed for query strings or paths).
    assert api.get("/api/jobs?owner=%ED%A0%80").status_code == 200
    err = _error(api.get("/api/datasets/%ED%A0%80"), 404, "dataset_not_found")
    assert "\ufffd" in err["message"]


@pytest.mark.parametrize("path", ["/api/runtime/log/{long}", "/api/tasks/{task}/files/{long}"])
def test_over_long_names_in_urls(api, svc, ds, tmp_path, path):
    models = {}
    for key in ("dit", "vae", "text_encoder"):
        (tmp_path / f"{key}.safetensors").write_bytes(b"weights")
        models[key] = str(tmp_path / f"{key}.safetensors")
    task = api.post("/api/tasks", json={"name": "T", "task_type": "qwen-image-lora", "dataset_id": ds,
                                        "models": models, "vram_preset": "low", "gpus": [0]}).get_json()["task"]
    err = _error(api.get(path.format(long="n" * 300, task=task["id"])), 422, "path_too_long")
    assert str(svc.layout.root) not in err["message"] and str(svc.layout.root) not in json.dumps(err["details"])


def test_over_long_paths_in_bodies(api, ds, tmp_path):
    _error(api.post(f"/api/datasets/{ds}/import", json={"source": "folder", "path": str(tmp_path / ("n" * 300))}),
           422, "path_too_long")


def test_over_long_upload_path_is_refused_and_leaves_no_staging_folder(api, svc, ds):
    deep = "/".join(["d" * 200] * 30) + "/a.png"   # each part is fine, the whole is longer than PATH_MAX
    resp = api.post(f"/api/datasets/{ds}/upload", data={"files": (io.BytesIO(png_bytes()), "a.png"), "paths": deep},
                    content_type="multipart/form-data")
    _error(resp, 422, "path_too_long")
    uploads = svc.layout.cache / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir()), list(uploads.iterdir())


# ---- rows stored before the boundary check existed -------------------------------------------

def _store_bad_job_row(data_dir):
    """What the old code left behind: a job whose params hold the JSON escape of a lone surrogate."""
    app = create_app(data_dir=data_dir, token=TOKEN, testing=True, gpu_provider="none")
    svc = app.extensions["workbench"]
    try:
        job = svc.jobs.submit("autotag", "Auto-tag", lambda ctx: {"caption": "x\ud800"},
                              params={"trigger": "x\ud800"}, owner="dataset:ds_1")
        svc.jobs.wait(job["id"])
        stored = svc.store.db.execute("SELECT params, result FROM jobs WHERE id = ?", [job["id"]]).fetchone()
        assert "\\ud800" in stored[0] and "\\ud800" in stored[1], stored  # the bad row really is there
        return job["id"]
    finally:
        svc.shutdown()


def test_a_stored_bad_row_does_not_break_the_jobs_list_after_a_restart(data_dir):
    job_id = _store_bad_job_row(data_dir)
    app = create_app(data_dir=data_dir, token=TOKEN, testing=True, gpu_provider="none")
    try:
        client = app.test_client()
        resp = client.get("/api/jobs", headers={"X-Workbench-Token": TOKEN})
        assert resp.status_code == 200
        job = next(j for j in resp.get_json()["jobs"] if j["id"] == job_id)
        assert job["params"]["trigger"] == "x\ufffd" and job["result"]["caption"] == "x\ufffd"
        assert client.get(f"/api/jobs/{job_id}", headers={"X-Workbench-Token": TOKEN}).status_code == 200
    finally:
        app.extensions["workbench"].shutdown()


def test_a_bad_value_in_an_event_does_not_drop_the_websocket_subscriber(app, svc):
    srv = ServerThread(app)
    srv.start()
    ws = Client.connect(f"ws://127.0.0.1:{srv.port}/ws?token={TOKEN}")
    try:
        assert json.loads(ws.receive(timeout=15))["type"] == "hello"
        ws.send(json.dumps({"op": "subscribe", "topics": ["jobs"]}))
        received = []

        def until(predicate, timeout=10):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                raw = ws.receive(timeout=deadline - time.monotonic())
                if raw is None:
                    break
                received.append(json.loads(raw))
                if predicate(received[-1]):
                    return received[-1]
            raise AssertionError(f"not received; got {received}")

        until(lambda m: m["topic"] == "subscribed")
        svc.bus.publish("jobs", "job", {"id": "old", "status": "done", "params": {"trigger": "x\ud800"}})
        assert until(lambda m: m["data"].get("id") == "old")["data"]["params"]["trigger"] == "x\ufffd"
        svc.bus.publish("jobs", "job", {"id": "after", "status": "done"})
        until(lambda m: m["data"].get("id") == "after")
        # Messages from the client that are not an object, or too deep, get an error and keep the socket.
        for bad, code in (("[1]", "invalid_json"), ("[" * 5000 + "]" * 5000, "json_too_deep"), ('{"op": NaN}', "invalid_number")):
            ws.send(bad)
            assert until(lambda m: m["topic"] == "error")["data"]["code"] == code
        ws.send(json.dumps({"op": "ping", "data": 1}))
        until(lambda m: m["topic"] == "pong")
    finally:
        ws.close()
        srv.shutdown()
