"""Paths from requests never leave the folder they belong to: media, uploads, imports, trash, task files,
runtime logs, tagger downloads. Every payload goes through the real Flask app onto real files."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from server.system import desktop
from tests.conftest import TOKEN

from .conftest import add_dataset, png_bytes

DS = "ds_5ec0000d"
# Names an attacker would put where a file name is expected (URL-level encodings included: the client
# sends them raw, so werkzeug decodes %2f etc. exactly as it would for a browser).
NAME_PAYLOADS = [
    "../../../outside/secret.png", "..%2f..%2f..%2foutside%2fsecret.png", "%2e%2e/%2e%2e/secret.png",
    "..\\..\\..\\outside\\secret.png", "/etc/passwd.png", "C:\\Windows\\win.png", "C:secret.png",
    "a.png%00.png", "a.png\x00", ".%2e/a.png", "....//....//secret.png", "media/../../a.png", "%252e%252e%252fa.png",
]


def _all_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.fixture
def dataset(svc, outside):
    root = add_dataset(svc, DS)
    os.symlink(outside / "secret.png", root / "media" / "link.png")
    os.symlink(outside, root / "media" / "dirlink")
    return root


@pytest.mark.parametrize("name", NAME_PAYLOADS)
@pytest.mark.parametrize("route", ["/media/datasets/{ds}/media/{n}", "/media/datasets/{ds}/control/{n}",
                                   "/media/datasets/{ds}/thumb/media/{n}", "/media/datasets/{ds}/thumb/control/{n}"])
def test_media_names_cannot_escape(api, dataset, name, route):
    resp = api.get(route.format(ds=DS, n=name))
    assert resp.status_code in (400, 404, 422), (name, resp.status_code)
    assert resp.is_json and "error" in resp.get_json()
    assert png_bytes((1, 2, 3)) not in resp.data


@pytest.mark.parametrize("ds_id", ["..", "ds_5ec0000d\n", "ds_5ec0000d%0a", "..%2fds_5ec0000d", "DS_5EC0000D"])
def test_media_dataset_ids_and_slots_are_checked(api, dataset, ds_id):
    # PATH_INFO set directly: the test client (urllib) would silently drop a raw line break from a URL.
    resp = api.get("/", environ_overrides={"PATH_INFO": f"/media/datasets/{ds_id}/media/a.png"})
    assert resp.status_code in (400, 404), ds_id
    for slot in ("..", "media/..", "thumb", "cache", "%2e%2e"):
        assert api.get(f"/media/datasets/{DS}/{slot}/a.png").status_code in (400, 404, 422), slot


def test_symlinks_inside_a_dataset_do_not_serve_outside_files(api, dataset):
    assert api.get(f"/media/datasets/{DS}/media/a.png").status_code == 200  # the real file is served
    for url in (f"/media/datasets/{DS}/media/link.png", f"/media/datasets/{DS}/thumb/media/link.png",
                f"/media/datasets/{DS}/media/dirlink/secret.png"):
        resp = api.get(url)
        assert resp.status_code in (400, 404, 422), url
        assert png_bytes((1, 2, 3)) not in resp.data


def test_uploaded_relative_paths_stay_in_the_staging_folder(api, svc, dataset, tmp_path):
    before = _all_files(tmp_path) - _all_files(svc.layout.root)
    names = ["../../../../escaped1.png", "/tmp/escaped2.png", "..\\..\\escaped3.png", "C:\\escaped4.png",
             "C:/x/../../escaped5.png", "a/%2e%2e/%2e%2e/escaped6.png", "ok\x00.png"]
    data = {"files": [(io.BytesIO(png_bytes()), "x.png") for _ in names], "paths": names, "final": "0"}
    resp = api.post(f"/api/datasets/{DS}/upload", data=data, content_type="multipart/form-data")
    assert resp.status_code == 200, resp.get_json()
    staged = svc.layout.cache / "uploads" / resp.get_json()["upload_id"]
    for entry in resp.get_json()["received"]:
        target = (staged / entry["stored"]).resolve()
        assert staged.resolve() in target.parents, entry
    assert _all_files(tmp_path) - _all_files(svc.layout.root) == before  # nothing new outside the data dir
    assert not list(Path("/tmp").glob("escaped2.png"))


def test_zip_members_cannot_write_outside_the_dataset(api, svc, dataset, tmp_path):
    zpath = tmp_path / "evil.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for i, n in enumerate(("../../../../zip_escaped.png", "/abs_escaped.png", "..\\..\\win_escaped.png",
                               "C:/drive_escaped.png")):
            zf.writestr(n, png_bytes(color=(i, 0, 0)))  # different pictures: the same one twice is a duplicate
    resp = api.post(f"/api/datasets/{DS}/import", json={"source": "zip", "path": str(zpath)})
    assert resp.status_code == 202, resp.get_json()
    job = svc.jobs.wait(resp.get_json()["job"]["id"])
    assert job["status"] == "done", job
    for n in ("zip_escaped.png", "abs_escaped.png", "win_escaped.png", "drive_escaped.png"):
        assert not list(tmp_path.rglob(n)) or all(svc.layout.root in p.parents for p in tmp_path.rglob(n)), n
        assert not (Path("/") / n).exists()
    media = svc.layout.datasets / DS / "media"
    assert {"zip_escaped.png", "abs_escaped.png"} <= {p.name for p in media.iterdir()}


def test_import_source_is_only_read(api, svc, dataset, outside):
    before = {p: p.stat().st_mtime_ns for p in outside.rglob("*")}
    resp = api.post(f"/api/datasets/{DS}/import", json={"source": "folder", "path": str(outside)})
    assert resp.status_code == 202
    svc.jobs.wait(resp.get_json()["job"]["id"])
    assert {p: p.stat().st_mtime_ns for p in outside.rglob("*")} == before
    # the dataset's own folder (or a parent of it) is refused as a source
    for bad in (str(dataset), str(dataset.parent), str(svc.layout.root), "relative/path"):
        resp = api.post(f"/api/datasets/{DS}/import", json={"source": "folder", "path": bad})
        assert resp.status_code == 422, bad


def test_deleting_items_by_name_cannot_reach_outside_files(api, svc, dataset, outside):
    for names in (["../../../outside/secret.txt"], [str(outside / "secret.txt")], ["..\\..\\secret.txt"]):
        resp = api.post(f"/api/datasets/{DS}/items/delete", json={"target": {"names": names}})
        assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "unknown_items"
    assert (outside / "secret.txt").read_text() == "TOP-SECRET-OUTSIDE"
    resp = api.delete(f"/api/datasets/{DS}/items/1/controls/..%2f..%2f..%2foutside%2fsecret.png")
    assert resp.status_code in (404, 405)
    assert (outside / "secret.png").exists()


@pytest.mark.parametrize("upload_id", ["..", "..%2f..", "0123456789abcdef/..", "0123456789ABCDEF"])
def test_upload_ids_are_checked_before_touching_disk(api, svc, dataset, upload_id):
    resp = api.delete(f"/api/datasets/{DS}/upload/{upload_id}")
    assert resp.status_code in (404, 405, 422)  # 405: a '/' in it matches no route
    assert svc.layout.cache.is_dir() and svc.layout.datasets.is_dir()


# ---- runtime log, tagger downloads ----------------------------------------------------------------

@pytest.mark.parametrize("job_id", ["..", "..%2fapp", "%2e%2e", "abc.log", "x%00", "\uff41\uff42"])
def test_runtime_log_names_are_plain(api, svc, job_id):
    (svc.layout.logs / "app.log").write_text("app log", encoding="utf-8")
    resp = api.get(f"/api/runtime/log/{job_id}")
    assert resp.status_code == 404 and resp.is_json


@pytest.mark.parametrize("repo", ["../../etc", "a/../../b", "owner/name/../..", "owner/..", "/abs/path",
                                  "C:/x", "owner\\name", "owner/na\nme", ["a", "b"], {"r": 1}, 7])
def test_tagger_download_target_is_checked(api, svc, repo):
    before = _all_files(svc.layout.root)
    resp = api.post("/api/tagging/models/download", json={"repo": repo})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "bad_repo_id", (repo, resp.get_json())
    assert _all_files(svc.layout.root) - before <= {svc.layout.logs / "app.log"}


def test_local_tagger_folder_is_only_read(svc, outside):
    """A user-chosen WD14 folder without the model is reported, never downloaded into."""
    from server.tagging.base import TaggingError
    from server.tagging.registry import create

    backend = create("wd14", store=svc.store, layout=svc.layout,
                     options={"model_dir": str(outside), "hf_endpoint": "http://127.0.0.1:9"})
    with pytest.raises(TaggingError) as err:
        backend.prepare()
    assert err.value.code == "model_files_missing"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.png", "secret.txt"]


# ---- app folders, tasks --------------------------------------------------------------------------

@pytest.fixture
def opened(monkeypatch):
    seen = []
    monkeypatch.setattr(desktop, "OPENER", lambda path, reveal=False: seen.append((Path(path), reveal)))
    return seen


@pytest.mark.parametrize("folder", ["..", "/etc", "C:\\", ["data"], {"x": 1}, 3, "data/.."])
def test_open_folder_takes_only_app_folder_names(api, opened, folder):
    resp = api.post("/api/app/open-folder", json={"folder": folder})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "unknown_folder"
    assert opened == []


def test_opening_a_file_reveals_it_and_never_runs_it(opened, tmp_path):
    script = tmp_path / "run-me.sh"
    script.write_text("#!/bin/sh\necho pwned\n")
    desktop.open_path(script)
    desktop.open_path(tmp_path)
    assert opened == [(script, True), (tmp_path, False)]


@pytest.fixture
def task(api, svc, tmp_path):
    models = {}
    for key in ("dit", "vae", "text_encoder"):
        (tmp_path / f"{key}.safetensors").write_bytes(b"weights")
        models[key] = str(tmp_path / f"{key}.safetensors")
    add_dataset(svc, "ds_0000c0de")
    body = {"name": "Sec LoRA", "task_type": "qwen-image-lora", "dataset_id": "ds_0000c0de", "models": models,
            "vram_preset": "low", "gpus": [0]}
    resp = api.post("/api/tasks", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["task"]


@pytest.fixture
def task_with_links(svc, task, outside):
    from server.training import tasks

    out = tasks.paths(svc.layout, task["id"]).output
    out.mkdir(parents=True, exist_ok=True)
    (out / "ok.safetensors").write_bytes(b"w")
    os.symlink(outside / "secret.txt", out / "link.safetensors")
    os.symlink(outside, out / "dirlink")
    return task


PATH_PAYLOADS = ["../../../outside/secret.txt", "..%2f..%2fsecret.txt", "..\\..\\secret.txt", "/etc/passwd",
                 "C:\\Windows", "output/../../..", "link.safetensors", "dirlink/secret.txt", "x\x00y"]


@pytest.mark.parametrize("name", PATH_PAYLOADS)
def test_task_files_cannot_escape(api, task_with_links, name):
    tid = task_with_links["id"]
    resp = api.get(f"/api/tasks/{tid}/files/{name}")
    assert resp.status_code in (400, 404, 422), name
    assert b"TOP-SECRET-OUTSIDE" not in resp.data


@pytest.mark.parametrize("name", PATH_PAYLOADS + ["output/link.safetensors", "output/dirlink"])
def test_task_open_is_limited_to_the_task_folder(api, task_with_links, opened, name):
    resp = api.post(f"/api/tasks/{task_with_links['id']}/open", json={"path": name})
    assert resp.status_code in (404, 422), (name, resp.status_code)
    assert opened == []


@pytest.mark.parametrize("name", PATH_PAYLOADS + [["x"], 5])
def test_convert_takes_only_checkpoints_of_the_task(api, task_with_links, name):
    resp = api.post(f"/api/tasks/{task_with_links['id']}/convert", json={"file": name})
    assert resp.status_code in (404, 422), (name, resp.status_code)


def test_open_and_files_work_inside_the_task(api, task_with_links, opened):
    tid = task_with_links["id"]
    assert api.get(f"/api/tasks/{tid}/files/ok.safetensors").data == b"w"
    assert api.post(f"/api/tasks/{tid}/open", json={"path": "output"}).status_code == 200
    assert api.post(f"/api/tasks/{tid}/open", json={"path": "output/ok.safetensors"}).status_code == 200
    assert [r for _, r in opened] == [False, True]  # the checkpoint is revealed, not launched


def test_token_is_not_enough_to_read_outside_files_via_query_token(client, dataset):
    resp = client.get(f"/media/datasets/{DS}/media/link.png", query_string={"token": TOKEN})
    assert resp.status_code in (400, 404, 422)
    assert png_bytes((1, 2, 3)) not in resp.data


def test_rescan_does_not_index_links_to_files_outside_the_dataset(api, dataset):
    """Tagging and training read what the index lists: an outside file must never get there."""
    import shutil as _shutil

    (dataset / "media" / "inner").mkdir(exist_ok=True)
    _shutil.copy(dataset / "media" / "a.png", dataset / "media" / "inner" / "b.png")
    os.symlink(dataset / "media" / "inner" / "b.png", dataset / "media" / "inside-link.png")
    assert api.post(f"/api/datasets/{DS}/rescan").status_code == 200
    names = [i["name"] for i in api.get(f"/api/datasets/{DS}/items").get_json()["items"]]
    assert "link.png" not in names
    assert "a.png" in names and "inside-link.png" in names
