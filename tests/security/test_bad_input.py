"""Bad input gets a clear JSON error with a machine-readable code, never a 500 with an exception text."""

from __future__ import annotations

import json

import pytest

from .conftest import add_dataset

DS = "ds_5ec0000d"


def _send(api, method, path, body=None, raw=None):
    if raw is not None:
        return api.client.open(path, method=method.upper(), data=raw,
                               headers={"X-Workbench-Token": "test-secret-token", "Content-Type": "application/json"})
    return getattr(api, method)(path, json=body)


def _assert_clean_error(resp, status=None):
    assert resp.status_code < 500, resp.get_data(as_text=True)
    assert resp.status_code >= 400
    if status:
        assert resp.status_code == status, resp.get_json()
    err = resp.get_json()["error"]
    assert isinstance(err["code"], str) and err["code"] and err["code"] != "internal_error"
    assert "Traceback" not in err["message"]


@pytest.fixture
def ds(svc):
    add_dataset(svc, DS)
    return DS


CASES = [
    # the launch secret itself (server/security.py)
    # tagging (server/tagging/registry.py, backend_jobs.py, hub.py)
    ("post", "/api/tagging/test", {"backend": ["wd14"]}, None),
    ("post", "/api/tagging/test", {"backend": {"a": 1}}, None),
    ("post", "/api/datasets/{ds}/autotag", {"backend": ["x"]}, None),
    ("post", "/api/tagging/test", {"dataset_id": "{ds}", "item_id": 10 ** 30}, None),
    ("post", "/api/tagging/test", {"dataset_id": "{ds}", "item_id": 1.5}, None),
    ("post", "/api/tagging/test", {"dataset_id": "{ds}", "item_id": True}, None),
    ("post", "/api/tagging/test", {"dataset_id": "{ds}", "item_id": -1}, None),
    ("post", "/api/tagging/test", {"dataset_id": "{ds}", "item_id": "\u00b2"}, None),
    ("post", "/api/tagging/test", {"dataset_id": ["x"], "item_id": 1}, None),
    ("post", "/api/tagging/test", None, '{"dataset_id": "{ds}", "item_id": Infinity}'),
    ("post", "/api/tagging/test", {"options": "x"}, None),
    ("post", "/api/tagging/test", {"options": {"api_key": ["x"]}, "backend": "openai_api"}, None),
    ("post", "/api/tagging/models/download", {"repo": ["a", "b"]}, None),
    ("post", "/api/tagging/models/download", {"repo": {"a": 1}}, None),
    # models (server/api/models.py, server/models/checks.py)
    ("post", "/api/models/check", {"path": "/x.safetensors", "task_type": ["qwen-image-lora"]}, None),
    ("post", "/api/models/check", {"path": "/x.safetensors", "role": {"a": 1}}, None),
    ("post", "/api/models/check", {"path": ["x"]}, None),
    ("patch", "/api/models/library", {"nope": 1}, None),
    ("patch", "/api/models/library", None, "[1, 2]"),
    # runtime (server/runtime/setup.py, pythons.py)
    ("post", "/api/runtime/setup", {"action": ["setup"]}, None),
    ("post", "/api/runtime/setup", {"action": "repair", "extra": "cu128", "base_python": "/usr/bin/py\u0000x"}, None),
    ("post", "/api/runtime/setup", {"action": "repair", "extra": "cu128", "base_python": ["/usr/bin/python3"]}, None),
    ("post", "/api/runtime/setup", {"action": "repair", "extra": {"a": 1}}, None),
    # settings (server/settings.py)
    ("patch", "/api/settings", {"window": {"width": 1e308 * 10}}, None),
    ("patch", "/api/settings", None, '{"window": {"width": Infinity}}'),
    ("patch", "/api/settings", None, '{"window": {"height": NaN}}'),
    ("patch", "/api/settings", {"window": {"x": 10 ** 400}}, None),
    ("patch", "/api/settings", {"tagging_api_key": {"a": 1}}, None),
    ("patch", "/api/settings", {"tagging_api_parallel": "4"}, None),
    ("patch", "/api/settings", {"tagging_api_parallel": 10 ** 30}, None),
    ("patch", "/api/settings", {"musubi_dir": "relative"}, None),
    ("patch", "/api/settings", None, "{"),
    ("patch", "/api/settings", None, '"text"'),
    # app folders (server/api/app_control.py)
    ("post", "/api/app/open-folder", {"folder": ["data"]}, None),
    ("post", "/api/app/open-folder", {"folder": {"a": 1}}, None),
    # jobs
    ("post", "/api/jobs/%00/cancel", {}, None),
]


@pytest.mark.parametrize("method,path,body,raw", CASES, ids=[f"{m} {p} {json.dumps(b)[:40] if b else r}"
                                                             for m, p, b, r in CASES])
def test_bad_input_is_a_clean_json_error(api, ds, method, path, body, raw):
    path = path.format(ds=ds)
    if body is not None:
        body = json.loads(json.dumps(body).replace("{ds}", ds))
    if raw is not None:
        raw = raw.replace("{ds}", ds)
    _assert_clean_error(_send(api, method, path, body, raw))


def test_window_setting_keeps_sane_numbers(api):
    assert api.patch("/api/settings", json={"window": {"width": 1200.7, "maximized": True}}).status_code == 200
    assert api.get("/api/settings").get_json()["settings"]["window"] == {"width": 1200, "maximized": True}
    _assert_clean_error(api.patch("/api/settings", json={"window": {"width": True}}), 422)


# ---- bad input the security review found answered with 500s, now clean errors -------------------

KNOWN = [
    ("get", "/api/datasets/{ds}/items/99999999999999999999999", None, None, "datasets/items.get_row: int overflow"),
    ("post", "/api/datasets/{ds}/items/delete", {"target": {"ids": [10 ** 30]}}, None,
     "datasets/listing.resolve_target: ids unbounded"),
    ("post", "/api/datasets/{ds}/trash/restore", {"ids": [10 ** 30]}, None, "datasets/trash._entries: ids unbounded"),
    ("get", "/api/datasets/{ds}/items?offset=99999999999999999999999", None, None, "datasets/listing.page: offset"),
    ("get", "/api/datasets/{ds}/items?page=99999999999999999999", None, None, "datasets/listing.page: page"),
    ("post", "/api/datasets/{ds}/ops", {"op": ["add_tags"], "target": {"all": True}}, None,
     "datasets/tags.op_function: unhashable op"),
    ("post", "/api/datasets/{ds}/import", {"source": "folder", "path": "/tmp/x\u0000"}, None,
     "datasets/importer._local_path: NUL byte"),
]


@pytest.mark.parametrize("method,path,body,raw,where", KNOWN, ids=[k[4] for k in KNOWN])
def test_datasets_bad_input_gives_clean_errors(api, ds, method, path, body, raw, where):
    path = path.format(ds=ds)
    _assert_clean_error(_send(api, method, path, body, raw))


@pytest.fixture
def task_id(api, svc, tmp_path):
    models = {}
    for key in ("dit", "vae", "text_encoder"):
        (tmp_path / f"{key}.safetensors").write_bytes(b"weights")
        models[key] = str(tmp_path / f"{key}.safetensors")
    add_dataset(svc, "ds_0000c0de")
    resp = api.post("/api/tasks", json={"name": "Sec", "task_type": "qwen-image-lora", "dataset_id": "ds_0000c0de",
                                        "models": models, "vram_preset": "low", "gpus": [0]})
    return resp.get_json()["task"]["id"]


@pytest.mark.parametrize("method,path,body", [
    ("get", "/api/tasks/{t}/loss?since=99999999999999999999999", None),
    ("post", "/api/tasks/{t}/clone", {"name": 5}),
    ("post", "/api/tasks/{t}/clone", {"name": {"a": 1}}),
], ids=["loss since overflow", "clone name int", "clone name object"])
def test_tasks_bad_input_gives_clean_errors(api, task_id, method, path, body):
    _assert_clean_error(_send(api, method, path.format(t=task_id), body))
