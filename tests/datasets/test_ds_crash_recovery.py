"""kill -9 in the middle of caption ops, auto-tag and imports: after a restart on the same folder the
files, the item index and the undo history agree (issue 12 items 3, 4, 5).

The real launcher runs in a subprocess on a real data dir; `testpoint` freezes it at an exact point
(after the n-th caption file, after the n-th imported file...), the test sees the marker file and
kills the process with SIGKILL, then opens a new app on the same folder.
"""

from __future__ import annotations

import json
import threading
import urllib.error
from pathlib import Path

import pytest

from server import create_app
from server.datasets import captions, editing, items, storage, testpoint
from server.datasets.history import History
from server.paths import DataLayout
from tests.live import LiveApp, wait_for
from tests.tagging.tiny_wd14 import build_model_dir

from ds_helpers import make_image, make_video

N = 12
ORIGINAL = {f"p{i:02d}.png": (f"tag{i}, solo" if i % 3 else None) for i in range(N)}


def _open(data_dir: Path):
    return create_app(data_dir=data_dir, token="t", testing=True, gpu_provider="none")


@pytest.fixture
def prepared(tmp_path):
    """A data dir holding one dataset of N pictures, most with a caption; the app that made it is closed."""
    data_dir = tmp_path / "crash-data"  # not the `app` fixture's folder: one app per data folder
    app = _open(data_dir)
    svc = app.extensions["workbench"]
    try:
        ds_id = storage.create(svc, "Crash", "image")["id"]
        media = storage.dataset_dirs(svc.layout, ds_id).media
        for i, (name, text) in enumerate(ORIGINAL.items()):
            make_image(media / name, size=(16, 16), color=(i * 20, 0, 0))
            if text is not None:
                (media / name).with_suffix(".txt").write_text(text, encoding="utf-8")
        items.rescan(svc, ds_id)
        svc.store.set_setting("tagging_wd14_model_dir", str(build_model_dir(tmp_path / "wd14")))
    finally:
        svc.shutdown()
    return data_dir, ds_id


def kill_at(data_dir: Path, point: str, n: int, method: str, path: str, body: dict) -> None:
    """Start the app, send one request, and kill -9 the app once it reaches `point` for the n-th time."""
    marker = data_dir.parent / f"paused-{point}-{n}"
    live = LiveApp(data_dir, env={testpoint.ENV: f"{point}:{n}:{marker}", "LORA_WORKBENCH_GPU_PROVIDER": "none"})
    try:
        live.wait_ready(60)

        def send():
            try:
                live.call(method, path, body)
            except (urllib.error.URLError, ConnectionError, OSError, json.JSONDecodeError):
                pass  # the process is killed under the request

        threading.Thread(target=send, daemon=True).start()
        wait_for(lambda: marker.exists() or live.proc.poll() is not None, timeout=90)
        assert marker.exists(), "the app ended before the kill point:\n" + live.log
    finally:
        live.proc.kill()  # SIGKILL: no finally block, no shutdown hook runs
        live.proc.wait(30)
        live.stop()


def files(svc, ds_id) -> dict:
    media = storage.dataset_dirs(svc.layout, ds_id).media
    return {name: captions.read(media, name) for name in ORIGINAL}


def index(svc, ds_id) -> dict:
    return {r[0]: r[1] for r in svc.store.db.execute(
        "SELECT name, caption FROM dataset_items WHERE dataset_id = ?", [ds_id])}


def check_agree_and_undo(svc, ds_id) -> dict:
    """Files == index; nothing is left pending; undoing the one step restores every original caption."""
    after = files(svc, ds_id)
    assert after == index(svc, ds_id)
    assert History(svc.store).pending_steps() == []
    assert svc.store.db.execute("SELECT COUNT(*) FROM dataset_journal").fetchone()[0] == 0
    steps = History(svc.store).state(ds_id)["steps"]
    assert len(steps) == 1 and not steps[0]["pending"]
    changed = {n for n in ORIGINAL if after[n] != ORIGINAL[n]}
    assert steps[0]["item_count"] == len(changed)
    result = editing.undo(svc, ds_id)
    assert result["conflicts"] == [] and result["changed"] == len(changed)
    assert files(svc, ds_id) == ORIGINAL == index(svc, ds_id)
    return after


@pytest.mark.parametrize("point,n", [("step_opened", 1), ("caption_written", 5), ("caption_written", N)])
def test_batch_op_killed_is_finished_at_start(prepared, point, n):
    data_dir, ds_id = prepared
    kill_at(data_dir, point, n, "POST", f"/api/datasets/{ds_id}/ops",
            {"op": "append", "params": {"text": "ohwx"}, "target": {"all": True}})
    app = _open(data_dir)
    svc = app.extensions["workbench"]
    try:
        # The op was journaled before its first file: it is finished, every caption got the text.
        after = check_agree_and_undo(svc, ds_id)
        assert after == {k: (f"{v}, ohwx" if v else "ohwx") for k, v in ORIGINAL.items()}
    finally:
        svc.shutdown()


def test_undo_killed_half_way_is_finished_at_start(prepared):
    data_dir, ds_id = prepared
    app = _open(data_dir)
    svc = app.extensions["workbench"]
    try:
        names = list(ORIGINAL)
        editing.transform_captions(svc, ds_id, names, lambda _n, text: "new" if text else "made", "Set", op="set")
        done = files(svc, ds_id)
    finally:
        svc.shutdown()
    kill_at(data_dir, "caption_written", 5, "POST", f"/api/datasets/{ds_id}/undo", {})
    app = _open(data_dir)
    svc = app.extensions["workbench"]
    try:
        assert files(svc, ds_id) == ORIGINAL == index(svc, ds_id)
        pointers = History(svc.store).pointers(ds_id)
        assert not pointers["can_undo"] and pointers["can_redo"]
        assert editing.redo(svc, ds_id)["conflicts"] == []
        assert files(svc, ds_id) == done == index(svc, ds_id)
    finally:
        svc.shutdown()


@pytest.mark.parametrize("n", [1, 4])
def test_autotag_overwrite_killed_can_be_undone(prepared, n):
    data_dir, ds_id = prepared
    kill_at(data_dir, "caption_written", n, "POST", f"/api/datasets/{ds_id}/autotag",
            {"backend": "wd14", "mode": "overwrite", "trigger": ""})
    app = _open(data_dir)
    svc = app.extensions["workbench"]
    try:
        after = check_agree_and_undo(svc, ds_id)
        # Exactly the items the run had reached were overwritten; the step holds each of them.
        assert sum(after[k] != ORIGINAL[k] for k in ORIGINAL) == n
    finally:
        svc.shutdown()


def test_unwritable_caption_is_reported_and_the_rest_stays_undoable(filled, svc):
    cap = filled.media / "img1.txt"
    cap.unlink()
    cap.mkdir()  # a caption path that is a folder cannot be written
    r = filled.op("append", {"text": "ohwx"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert [(e["name"], e["code"]) for e in body["errors"]] == [("img1.png", "caption_write_failed")]
    assert body["changed"] == 3 and body["step"]["item_count"] == 3
    assert filled.item("img0.png")["caption"] == "1girl, solo, smile, ohwx"
    assert History(svc.store).pending_steps() == []
    r = filled.api.post(f"{filled.base}/undo")
    assert r.status_code == 200 and r.get_json()["changed"] == 3
    assert (filled.media / "img0.txt").read_text(encoding="utf-8") == "1girl, solo, smile"
    assert not (filled.media / "img3.txt").exists()


# ---- imports --------------------------------------------------------------------------------

@pytest.fixture
def source(tmp_path):
    src = tmp_path / "pictures"
    for i in range(N):
        make_image(src / f"s{i:02d}.png", size=(16, 16), color=(0, 10 + i * 20, 5))
        (src / f"s{i:02d}.txt").write_text(f"caption {i}", encoding="utf-8")
    return src


# import_partial: the 3rd picture is half written under its own name when the app is killed.
@pytest.mark.parametrize("point,n,placed", [("import_placed", 5, 5), ("import_partial", 3, 2)])
def test_killed_import_is_indexed_at_start_and_not_duplicated(prepared, source, point, n, placed):
    data_dir, ds_id = prepared
    kill_at(data_dir, point, n, "POST", f"/api/datasets/{ds_id}/import", {"source": "folder", "path": str(source)})
    app = _open(data_dir)
    svc = app.extensions["workbench"]
    try:
        media = storage.dataset_dirs(svc.layout, ds_id).media
        # No half-copied file under any name, and every file that reached its name is indexed.
        assert not [p.name for p in media.iterdir() if p.name.startswith(".~")]
        on_disk = sorted(p.name for p in media.glob("s*.png"))
        assert len(on_disk) == placed
        assert set(on_disk) <= set(index(svc, ds_id))
        # Importing the same folder again copies only the rest: the others are recognised by content.
        client = app.test_client()
        r = client.post(f"/api/datasets/{ds_id}/import", json={"source": "folder", "path": str(source)},
                        headers={"X-Workbench-Token": "t"})
        assert r.status_code == 202, r.get_json()
        report = svc.jobs.wait(r.get_json()["job"]["id"])["result"]
        assert report["imported"] == N - placed and report["duplicates"] == placed and report["renamed"] == []
        names = sorted(p.name for p in media.glob("s*.png"))
        assert names == [f"s{i:02d}.png" for i in range(N)]
        # Each picture has its caption, the one killed between its file and its caption too.
        assert all(captions.read(media, name) == f"caption {int(name[1:3])}" for name in names)
        assert files_and_index_agree(svc, ds_id)
        for job in svc.jobs.list(active_only=True):
            svc.jobs.cancel(job["id"])
            svc.jobs.wait(job["id"])
    finally:
        svc.shutdown()


def test_killed_video_import_leaves_no_temp_copy(tmp_path):
    """Videos are streamed to a temp name, checked there and then renamed: one killed before its rename
    leaves nothing under a real name, and the temp copy is removed at the next start."""
    data_dir = tmp_path / "crash-data"
    app = _open(data_dir)
    svc = app.extensions["workbench"]
    try:
        ds_id = storage.create(svc, "Clips", "video")["id"]
    finally:
        svc.shutdown()
    for i in range(3):
        make_video(tmp_path / "clips" / f"c{i}.mp4", frames=3 + i, size=(32, 32))   # different: not duplicates
    kill_at(data_dir, "import_temp", 2, "POST", f"/api/datasets/{ds_id}/import",
            {"source": "folder", "path": str(tmp_path / "clips")})
    media = storage.dataset_dirs(DataLayout(data_dir), ds_id).media
    assert any(p.name.startswith(".~import-") for p in media.iterdir())   # the kill came with a temp copy there
    app = _open(data_dir)
    svc = app.extensions["workbench"]
    try:
        assert sorted(p.name for p in media.iterdir()) == ["c0.mp4"]
        assert list(index(svc, ds_id)) == ["c0.mp4"]
    finally:
        svc.shutdown()


def files_and_index_agree(svc, ds_id) -> bool:
    media = storage.dataset_dirs(svc.layout, ds_id).media
    on_disk = {p.name: captions.read(media, p.name) for p in media.iterdir()
               if p.suffix == ".png" and not p.name.startswith(".")}
    return on_disk == index(svc, ds_id)


def test_autotag_reports_an_unwritable_caption_and_keeps_one_step(filled, api, svc, tmp_path):
    assert api.patch("/api/settings", json={"tagging_wd14_model_dir": str(build_model_dir(tmp_path / "wd14"))}) \
        .status_code == 200
    cap = filled.media / "img2.txt"
    cap.unlink()
    cap.mkdir()
    r = api.post(f"{filled.base}/autotag", json={"backend": "wd14", "mode": "overwrite", "trigger": ""})
    assert r.status_code == 202, r.get_json()
    job = svc.jobs.wait(r.get_json()["job"]["id"])
    assert job["status"] == "done", job
    result = job["result"]
    assert [(e["name"], e["code"]) for e in result["errors"]] == [("img2.png", "caption_write_failed")]
    assert result["changed"] == 3
    step = History(svc.store).step(result["step_id"])
    assert step["item_count"] == 3 and not step["pending"]
    assert {c["name"] for c in History(svc.store).changes(step["id"])} == {"img0.png", "img1.png", "img3.png"}
    assert api.post(f"{filled.base}/undo").get_json()["conflicts"] == []
    assert filled.item("img0.png")["caption"] == "1girl, solo, smile" and not (filled.media / "img3.txt").exists()
