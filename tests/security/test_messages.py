"""Messages name files as the user knows them, never by the app's internal paths (staging folders,
temp files, the data folder): a corrupt upload says "holiday.png: Not a readable image", not
"cannot identify image file '/…/cache/uploads/…/holiday.png'"."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from .conftest import add_dataset

DS = "ds_3e550001"


def _upload(api, files):
    resp = api.post(f"/api/datasets/{DS}/upload", data={"files": files}, content_type="multipart/form-data")
    assert resp.status_code == 202, resp.get_json()
    return resp.get_json()["job"]["id"]


def _zip(entries: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("type_,files,expected", [
    ("image", [(b"not a png", "holiday.png"), (b"\x89PNG\r\n\x1a\n" + b"x" * 64, "cut.png")],
     {"holiday.png", "cut.png"}),
    ("video", [(b"not a video at all", "clip.mp4")], {"clip.mp4"}),
    ("image", [(_zip({"trip/beach.jpg": b"junk jpeg", "trip/ok.txt": b"a caption"}), "photos.zip")],
     {"photos.zip:trip/beach.jpg"}),
], ids=["image", "video", "zip entry"])
def test_corrupt_upload_messages_show_no_internal_paths(api, svc, type_, files, expected, tmp_path):
    add_dataset(svc, DS, type_=type_)
    job = svc.jobs.wait(_upload(api, [(io.BytesIO(data), name) for data, name in files]), timeout=60)
    skipped = [s for s in job["result"]["skipped"] if s["reason"] == "corrupt"]
    assert {s["path"].replace("\\", "/") for s in skipped} >= expected, skipped
    text = json.dumps(job, ensure_ascii=False)
    for internal in (str(svc.layout.root), svc.layout.root.as_posix(), "uploads", ".~import", str(tmp_path)):
        assert internal not in text, (internal, skipped)
    for s in skipped:
        assert s["message"].startswith(("Not a readable image", "Not a readable video")), s


def test_corrupt_folder_import_message_shows_no_path(api, svc, tmp_path):
    add_dataset(svc, DS)
    src = tmp_path / "my pictures"
    src.mkdir()
    (src / "bad.png").write_bytes(b"zzz")
    resp = api.post(f"/api/datasets/{DS}/import", json={"source": "folder", "path": str(src)})
    job = svc.jobs.wait(resp.get_json()["job"]["id"], timeout=60)
    (skip,) = job["result"]["skipped"]
    assert skip["path"] == "bad.png" and skip["reason"] == "corrupt"
    assert str(src) not in skip["message"] and src.as_posix() not in skip["message"], skip
