"""Size limits (issue 12.7), links out of a dataset or a source folder (12.10), crash debris (12.12)."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from server import create_app
from server.datasets import importer, limits, storage
from tests.conftest import TOKEN

from ds_helpers import image_bytes, make_image

MiB = 1 << 20


def _leftovers(ds, svc) -> list[str]:
    """Anything an import may leave behind: temp files in the dataset, staging folders."""
    found = [p.name for p in ds.media.iterdir() if p.name.startswith(".")]
    uploads = svc.layout.cache / "uploads"
    return found + ([p.name for p in uploads.iterdir()] if uploads.exists() else [])


def _bomb(path, size=64 * MiB):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ok.png", image_bytes())
        with zf.open("big.png", "w", force_zip64=True) as f:
            block = b"\0" * MiB
            for _ in range(size // MiB):
                f.write(block)
    return path


def test_zip_bomb_is_refused_before_anything_is_unpacked(ds, svc, tmp_path):
    z = _bomb(tmp_path / "bomb.zip")
    assert z.stat().st_size < MiB
    r = ds.api.post(f"{ds.base}/import", json={"source": "zip", "path": str(z)})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "zip_bomb"
    assert r.get_json()["error"]["details"]["member"] == "big.png"
    assert svc.jobs.list() == [] and list(ds.media.iterdir()) == []


def test_zip_larger_than_the_free_space_is_refused_before_unpacking(ds, svc, tmp_path, monkeypatch):
    z = tmp_path / "set.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a.png", image_bytes())
    free = len(image_bytes()) - 1  # a disk that cannot be filled in a test: one byte too few
    monkeypatch.setattr(importer.shutil, "disk_usage", lambda _p: type("U", (), {"free": free})())
    r = ds.api.post(f"{ds.base}/import", json={"source": "zip", "path": str(z)})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "not_enough_space"
    assert svc.jobs.list() == [] and list(ds.media.iterdir()) == []


def test_uploaded_zip_bomb_is_listed_and_leaves_nothing(ds, api, svc, tmp_path):
    data = _bomb(tmp_path / "bomb.zip").read_bytes()
    r = api.post(f"{ds.base}/upload", data={"files": [(io.BytesIO(data), "bomb.zip")], "paths": ["bomb.zip"]},
                 content_type="multipart/form-data")
    assert r.status_code == 202, r.get_json()
    job = svc.jobs.wait(r.get_json()["job"]["id"])
    assert job["status"] == "done", job
    assert [(s["path"], s["reason"]) for s in job["result"]["skipped"]] == [("bomb.zip", "zip_bomb")]
    assert job["result"]["imported"] == 0 and _leftovers(ds, svc) == []


def test_oversized_caption_in_zip_is_refused_and_its_picture_kept(ds, tmp_path):
    z = tmp_path / "set.zip"
    with zipfile.ZipFile(z, "w") as zf:  # stored, so the ratio check does not catch it first
        zf.writestr("a.png", image_bytes())
        zf.writestr("a.txt", "tag, " * (limits.MAX_CAPTION_BYTES // 5 + 10))
    r = ds.api.post(f"{ds.base}/import", json={"source": "zip", "path": str(z)})
    job = ds.svc.jobs.wait(r.get_json()["job"]["id"])
    report = job["result"]
    assert report["imported"] == 1 and report["captions"] == 0
    assert [(s["path"], s["reason"]) for s in report["skipped"]] == [("set.zip:a.txt", "too_large")]
    assert not (ds.media / "a.txt").exists() and ds.item("a.png")["caption"] is None


def test_size_is_counted_while_copying_when_not_declared(ds, svc, monkeypatch):
    """A source that declares no size (or a wrong one) is cut off at the limit and leaves no temp file."""
    monkeypatch.setitem(limits._BY_KIND, "image", 100)
    data = image_bytes(size=(64, 64))
    assert len(data) > 100
    e = importer.Entry(path="x.png", parts=["x.png"], open=lambda: io.BytesIO(data))

    class Ctx:
        id, cancelled = "test", False

        def check(self):
            pass

        def progress(self, *a, **k):
            pass

    report = importer.run_import(svc, ds.id, [e], "media", Ctx())
    assert [(s["path"], s["reason"]) for s in report["skipped"]] == [("x.png", "too_large")]
    assert list(ds.media.iterdir()) == []


def test_upload_requests_are_capped(app, ds, api, svc):
    assert app.config["MAX_CONTENT_LENGTH"] == limits.MAX_REQUEST_BYTES
    app.config["MAX_CONTENT_LENGTH"] = 10_000  # the same check, at a size a test can send
    r = api.post(f"{ds.base}/upload", data={"files": [(io.BytesIO(b"\0" * 20_000), "a.png")]},
                 content_type="multipart/form-data")
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "too_large"
    assert _leftovers(ds, svc) == []


def test_caption_text_is_capped(filled):
    r = filled.op("set", {"text": "x" * (limits.MAX_CAPTION_BYTES + 1)})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "caption_too_large"
    assert filled.item("img0.png")["caption"] == "1girl, solo, smile"


# ---- links ----------------------------------------------------------------------------------

needs_links = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt",
                                 reason="symbolic links need privileges on Windows")


@needs_links
def test_caption_link_out_of_the_dataset_is_not_read(ds, src, tmp_path):
    make_image(src / "a.png")
    ds.import_folder(src)
    secret = tmp_path / "secret.txt"
    secret.write_text("the text of some other file", encoding="utf-8")
    os.symlink(secret, ds.media / "a.txt")
    assert ds.api.post(f"{ds.base}/rescan").status_code == 200
    assert ds.item("a.png")["caption"] is None
    # Writing the caption replaces the link; the outside file is never touched.
    assert ds.op("set", {"text": "mine"}).status_code == 200
    assert secret.read_text(encoding="utf-8") == "the text of some other file"
    assert not (ds.media / "a.txt").is_symlink() and ds.item("a.png")["caption"] == "mine"


@needs_links
def test_folder_import_refuses_links_out_of_the_folder_and_lists_them(ds, src, tmp_path):
    outside = tmp_path / "outside"
    make_image(outside / "o.png", color=(1, 1, 1))
    (outside / "o.txt").write_text("outside text", encoding="utf-8")
    make_image(src / "a.png")
    os.symlink(outside / "o.txt", src / "a.txt")           # a caption link
    os.symlink(outside / "o.png", src / "b.png")           # a media link
    os.symlink(outside, src / "linked")                     # a folder link
    make_image(src / "c.png", color=(2, 2, 2))
    os.symlink(src / "c.png", src / "d.png")                # inside the folder: fine
    report = ds.import_folder(src)
    reasons = sorted((s["path"], s["reason"]) for s in report["skipped"])
    assert reasons == [("a.txt", "link"), ("b.png", "link"), ("d.png", "duplicate"), ("linked", "link")]
    assert sorted(p.name for p in ds.media.iterdir()) == ["a.png", "c.png"]
    assert ds.item("a.png")["caption"] is None


def test_zip_members_that_are_links_are_refused(ds, tmp_path):
    z = tmp_path / "links.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a.png", image_bytes())
        link = zipfile.ZipInfo("a.txt")
        link.external_attr = (0o120777 << 16)  # a symbolic link (its "content" is the target path)
        zf.writestr(link, "/etc/passwd")
    job = ds.svc.jobs.wait(ds.api.post(f"{ds.base}/import", json={"source": "zip", "path": str(z)})
                           .get_json()["job"]["id"])
    assert [(s["path"], s["reason"]) for s in job["result"]["skipped"]] == [("links.zip:a.txt", "link")]
    assert not (ds.media / "a.txt").exists()


# ---- crash debris ---------------------------------------------------------------------------

def test_start_removes_only_the_apps_own_crash_debris(tmp_path):
    data_dir = tmp_path / "debris-data"  # not the `app` fixture's folder: one app per data folder
    app = create_app(data_dir=data_dir, token=TOKEN, testing=True, gpu_provider="none")
    svc = app.extensions["workbench"]
    ds_id = storage.create(svc, "D", "image")["id"]
    dirs = storage.dataset_dirs(svc.layout, ds_id)
    svc.shutdown()
    debris = [dirs.media / ".~a.txt.k2j4h5g6.tmp", dirs.media / ".~import-ab12cd34.png",
              dirs.control / ".~import-zz99yy88.jpg", dirs.thumbs / "media" / ".~a.png.jpg.q1w2e3r4.tmp",
              svc.layout.cache / "uploads" / "0123456789abcdef" / "x.png"]
    kept = [dirs.media / "notes.tmp", dirs.media / ".~mine.txt", dirs.media / "a.png",
            svc.layout.cache / "uploads" / "not-an-upload" / "x.png"]
    for p in debris + kept:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    app = create_app(data_dir=data_dir, token=TOKEN, testing=True, gpu_provider="none")
    try:
        assert [p for p in debris if p.exists()] == []
        assert not (svc.layout.cache / "uploads" / "0123456789abcdef").exists()
        assert all(p.exists() for p in kept)
    finally:
        app.extensions["workbench"].shutdown()


def test_oversized_caption_file_is_never_rewritten(filled):
    """A caption made huge by another tool is read only in part: an op must not write that part back."""
    huge = "tag, " * (limits.MAX_CAPTION_BYTES // 5 + 10)
    (filled.media / "img0.txt").write_text(huge, encoding="utf-8")
    assert filled.api.post(f"{filled.base}/rescan").status_code == 200
    assert len(filled.item("img0.png")["caption"]) <= limits.MAX_CAPTION_BYTES
    r = filled.op("append", {"text": "ohwx"})
    assert r.status_code == 200
    assert [(e["name"], e["code"]) for e in r.get_json()["errors"]] == [("img0.png", "caption_too_large")]
    assert r.get_json()["changed"] == 3
    assert (filled.media / "img0.txt").read_text(encoding="utf-8") == huge
