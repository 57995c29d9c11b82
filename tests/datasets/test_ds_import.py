"""Import from a folder, a zip and uploads: captions, clashes, corrupt files, traversal, controls, videos."""

import io
import time
import zipfile

from ds_helpers import image_bytes, make_image, make_video


def test_folder_import_with_captions_and_subfolders(ds, src):
    make_image(src / "a.png")
    (src / "a.txt").write_text("\ufeffhello, world", encoding="utf-8")
    make_image(src / "sub" / "a.png", color=(0, 255, 0))       # same name in a sub-folder
    (src / "sub" / "a.txt").write_text("from sub", encoding="utf-8")
    make_image(src / "b.JPG", fmt="JPEG")
    (src / "notes.md").write_text("not media")
    (src / "orphan.txt").write_text("no image")
    (src / ".DS_Store").write_bytes(b"\0")
    report = ds.import_folder(src)
    assert report["imported"] == 3 and report["captions"] == 2
    assert report["renamed"] == [{"from": "sub/a.png", "to": "a_1.png"}]
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    assert reasons == {"notes.md": "unsupported_type", "orphan.txt": "caption_without_media"}
    assert (ds.media / "a.txt").read_text(encoding="utf-8") == "hello, world"     # BOM dropped
    assert (ds.media / "a_1.txt").read_text(encoding="utf-8") == "from sub"       # caption followed the rename
    assert (ds.media / "b.jpg").is_file()                                         # extension lower-cased
    assert (src / "a.png").is_file()                                              # a copy, not a move
    listed = ds.items()
    assert listed["total"] == 3
    assert {i["name"]: i["caption"] for i in listed["items"]} == {"a.png": "hello, world", "a_1.png": "from sub",
                                                                  "b.jpg": None}


def test_clash_with_existing_items_never_overwrites(ds, src, tmp_path):
    make_image(src / "x.png")
    (src / "x.txt").write_text("first")
    ds.import_folder(src)
    second = tmp_path / "second"
    make_image(second / "x.png", color=(1, 2, 3))
    make_image(second / "x.webp", fmt="WEBP")   # same stem, other extension: would share x.txt
    (second / "x.txt").write_text("second")
    report = ds.import_folder(second)
    assert sorted(r["to"] for r in report["renamed"]) == ["x_1.png", "x_2.webp"]
    assert (ds.media / "x.txt").read_text() == "first"
    assert (ds.media / "x_1.txt").read_text() == "second"
    assert ds.items()["total"] == 3


def test_corrupt_and_truncated_files_are_skipped(ds, src):
    make_image(src / "good.png")
    (src / "junk.png").write_bytes(b"this is not a png at all" * 10)
    full = image_bytes(size=(200, 200), fmt="JPEG")
    (src / "cut.jpg").write_bytes(full[: len(full) // 2])
    (src / "junk.txt").write_text("caption of a corrupt image")
    (src / "bad.mp4").write_bytes(b"\x00\x01garbage" * 50)
    report = ds.import_folder(src)
    assert report["imported"] == 1
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    assert reasons == {"junk.png": "corrupt", "cut.jpg": "corrupt", "bad.mp4": "wrong_kind"}
    assert sorted(p.name for p in ds.media.iterdir()) == ["good.png"]


def test_wrong_kind_and_video_dataset(make_ds, src):
    vds = make_ds("video")
    make_video(src / "clip.mp4", frames=5, fps=10)
    (src / "clip.txt").write_text("a red clip")
    make_image(src / "still.png")
    (src / "broken.mp4").write_bytes(b"\x00" * 300)
    report = vds.import_folder(src)
    assert report["imported"] == 1
    assert {s["path"]: s["reason"] for s in report["skipped"]} == {"still.png": "wrong_kind", "broken.mp4": "corrupt"}
    item = vds.item("clip.mp4")
    assert item["kind"] == "video" and item["caption"] == "a red clip"
    assert (item["width"], item["height"], item["fps"], item["frames"]) == (64, 48, 10.0, 5)
    assert abs(item["duration"] - 0.5) < 0.05
    vds.wait_jobs()
    r = vds.api.get(item["thumb_url"])
    assert r.status_code == 200 and r.mimetype == "image/jpeg"


def test_zip_import_with_traversal_names(ds, tmp_path, svc):
    z = tmp_path / "set.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../../evil.png", image_bytes())
        zf.writestr("../../evil.txt", "escaped?")
        zf.writestr("/abs/path.png", image_bytes(color=(1, 1, 1)))
        zf.writestr("win\\style\\bs.png", image_bytes(color=(2, 2, 2)))
        zf.writestr("__MACOSX/._evil.png", b"junk")
        zf.writestr("folder/", b"")
        zf.writestr("corrupt.webp", b"RIFF0000WEBPjunk")
    r = ds.api.post(f"{ds.base}/import", json={"source": "zip", "path": str(z)})
    job = svc.jobs.wait(r.get_json()["job"]["id"])
    report = job["result"]
    assert report["imported"] == 3 and report["captions"] == 1
    assert [s["reason"] for s in report["skipped"]] == ["corrupt"]
    assert sorted(p.name for p in ds.media.iterdir()) == ["bs.png", "evil.png", "evil.txt", "path.png"]
    assert not (tmp_path / "evil.png").exists() and not (svc.layout.root / "evil.png").exists()


def test_import_bad_input(ds, api, tmp_path, src):
    cases = [
        ({"source": "folder", "path": "relative/dir"}, "path_not_absolute"),
        ({"source": "folder", "path": str(tmp_path / "missing")}, "path_not_found"),
        ({"source": "folder", "path": ""}, "path_required"),
        ({"source": "ftp", "path": str(src)}, "bad_source"),
        ({"source": "folder", "path": str(ds.media)}, "source_inside_dataset"),
        ({"source": "folder", "path": str(tmp_path)}, "source_inside_dataset"),   # contains the data dir
        ({"source": "folder", "path": str(src), "slot": "control"}, "no_control_slot"),
        ({"source": "folder", "path": str(src), "slot": "other"}, "bad_slot"),
    ]
    (src / "f.zip").write_bytes(b"not a zip")
    cases.append(({"source": "zip", "path": str(src / "f.zip")}, "bad_zip"))
    cases.append(({"source": "folder", "path": str(src / "f.zip")}, "not_a_folder"))
    for body, code in cases:
        r = api.post(f"{ds.base}/import", json=body)
        assert r.status_code == 422, body
        assert r.get_json()["error"]["code"] == code, body


def _files(*pairs):
    return [(io.BytesIO(data), name) for name, data in pairs]


def test_upload_chunks_pair_captions_and_sanitize_paths(ds, api, svc):
    r = api.post(f"{ds.base}/upload", data={
        "files": _files(("a.png", image_bytes(color=(1, 0, 0))), ("b.png", image_bytes(color=(2, 0, 0)))),
        "paths": ["trip/a.png", "../../../b.png"], "final": "0"}, content_type="multipart/form-data")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["job"] is None
    uid = body["upload_id"]
    r = api.post(f"{ds.base}/upload", data={
        "files": _files(("a.txt", "caption a".encode()), ("c.png", image_bytes(color=(3, 0, 0))),
                        ("d.png", image_bytes(color=(4, 0, 0)))),
        "paths": ["trip/a.txt", "C:\\Users\\me\\c.png", "/etc/d.png"], "upload_id": uid},
        content_type="multipart/form-data")
    assert r.status_code == 202
    job = svc.jobs.wait(r.get_json()["job"]["id"])
    assert job["result"]["imported"] == 4 and job["result"]["captions"] == 1
    assert sorted(p.name for p in ds.media.iterdir()) == ["a.png", "a.txt", "b.png", "c.png", "d.png"]
    assert (ds.media / "a.txt").read_text() == "caption a"
    assert not (svc.layout.cache / "uploads" / uid).exists()   # staging cleaned up
    assert not (svc.layout.root / "b.png").exists()


def test_upload_bad_input(ds, api):
    r = api.post(f"{ds.base}/upload", data={}, content_type="multipart/form-data")
    assert r.get_json()["error"]["code"] == "files_required"
    r = api.post(f"{ds.base}/upload", data={"files": _files(("a.png", image_bytes())), "upload_id": "../../x"},
                 content_type="multipart/form-data")
    assert r.get_json()["error"]["code"] == "bad_upload_id"
    r = api.post(f"{ds.base}/upload", data={"files": _files(("a.png", image_bytes())), "paths": ["a", "b"]},
                 content_type="multipart/form-data")
    assert r.get_json()["error"]["code"] == "paths_mismatch"
    r = api.post(f"{ds.base}/upload", data={"files": _files(("a.png", image_bytes())), "final": "0"},
                 content_type="multipart/form-data")
    uid = r.get_json()["upload_id"]
    assert api.delete(f"{ds.base}/upload/{uid}").get_json() == {"discarded": True, "job_cancelled": False}
    assert api.delete(f"{ds.base}/upload/..").status_code in (404, 422)


def _chunk(api, ds, names, **form):
    return api.post(f"{ds.base}/upload", data={"files": _files(*[(n, image_bytes()) for n in names]), **form},
                    content_type="multipart/form-data")


def test_cancelled_upload_keeps_nothing_and_refuses_late_chunks(ds, api, svc):
    """Cancel mid-upload: staged chunks are dropped, a chunk still arriving afterwards (the browser aborted
    it but the server had read it) is refused and cleared, and no import starts."""
    uid = "0123456789abcdef"  # chosen by the client, so it can cancel before the first answer arrives
    r = _chunk(api, ds, ["a.png", "b.png"], upload_id=uid, new="1", final="0")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["upload_id"] == uid
    staging = svc.layout.cache / "uploads"
    assert sorted(p.name for p in (staging / uid).iterdir()) == ["a.png", "b.png"]
    assert _chunk(api, ds, ["x.png"], upload_id=uid, new="1").get_json()["error"]["code"] == "bad_upload_id"

    assert api.delete(f"{ds.base}/upload/{uid}").get_json() == {"discarded": True, "job_cancelled": False}
    assert list(staging.iterdir()) == []
    for form in ({"final": "0"}, {"final": "1"}, {"new": "1", "final": "1"}):
        r = _chunk(api, ds, ["c.png"], upload_id=uid, **form)
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "upload_discarded", r.get_json()
    assert list(staging.iterdir()) == []
    assert not svc.jobs.list(owner=f"dataset:{ds.id}")
    assert list(ds.media.iterdir()) == [] and ds.items()["total"] == 0

    # a cancel that comes after the last chunk started its import stops that import
    uid2 = _chunk(api, ds, ["d.png"], final="0").get_json()["upload_id"]

    def slow_import(ctx):
        while True:
            ctx.check()
            time.sleep(0.01)

    job = svc.jobs.submit("dataset_import", "Import uploaded files", slow_import,
                          params={"dataset_id": ds.id, "upload_id": uid2}, owner=f"dataset:{ds.id}")
    assert api.delete(f"{ds.base}/upload/{uid2}").get_json() == {"discarded": True, "job_cancelled": True}
    assert svc.jobs.wait(job["id"])["status"] == "cancelled"
    assert not (staging / uid2).exists()


def test_upload_zip_is_expanded(ds, api, svc):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("set/p.png", image_bytes())
        zf.writestr("set/p.txt", "zipped caption")
    r = api.post(f"{ds.base}/upload", data={"files": _files(("set.zip", buf.getvalue()))},
                 content_type="multipart/form-data")
    job = svc.jobs.wait(r.get_json()["job"]["id"])
    assert job["result"]["imported"] == 1
    assert (ds.media / "p.txt").read_text() == "zipped caption"


def test_image_control_import_pairs_controls(make_ds, src, tmp_path):
    cds = make_ds("image_control")
    make_image(src / "a.png")
    make_image(src / "b.png", color=(7, 7, 7))
    make_image(src / "control" / "a.png", color=(9, 9, 9))
    make_image(src / "control" / "b_0.png")
    make_image(src / "control" / "b_1.png")
    report = cds.import_folder(src)
    assert report["imported"] == 2 and report["controls"] == 3
    assert cds.item("a.png")["controls"][0]["name"] == "a.png"
    assert [c["name"] for c in cds.item("b.png")["controls"]] == ["b_0.png", "b_1.png"]
    # A second import of the same names (other pictures): targets are renamed and their controls
    # follow. b_1 is skipped as a new stem because control b_1.png (b's 2nd control) would pair with it.
    make_image(src / "a.png", color=(1, 2, 3))
    make_image(src / "b.png", color=(3, 2, 1))
    report = cds.import_folder(src)
    assert [c["name"] for c in cds.item("a_1.png")["controls"]] == ["a_1.png"]
    assert [c["name"] for c in cds.item("b_2.png")["controls"]] == ["b_2_0.png", "b_2_1.png"]
    assert [c["name"] for c in cds.item("b.png")["controls"]] == ["b_0.png", "b_1.png"]
    # Controls uploaded into the control slot directly.
    extra = tmp_path / "ctl"
    make_image(extra / "a.png", color=(5, 5, 5))
    report = cds.import_folder(extra, slot="control")
    assert report["controls"] == 1 and report["renamed"] == [{"from": "a.png", "to": "control/a_2.png"}]
    assert [c["name"] for c in cds.item("a.png")["controls"]] == ["a.png", "a_2.png"]
    listed = cds.items(missing_control="1")
    assert listed["total"] == 0


def test_control_upload_on_item_and_delete(make_ds, src, api):
    cds = make_ds("image_control")
    make_image(src / "t.png")
    cds.import_folder(src)
    item = cds.item("t.png")
    assert item["missing_control"] is True
    r = api.post(f"{cds.base}/items/{item['id']}/controls",
                 data={"files": _files(("whatever.png", image_bytes()), ("bad.png", b"junk"), ("n.txt", b"x"))},
                 content_type="multipart/form-data")
    body = r.get_json()
    assert r.status_code == 200, body
    assert body["added"] == ["t.png"] and [s["reason"] for s in body["skipped"]] == ["corrupt", "wrong_kind"]
    assert body["item"]["missing_control"] is False
    r = api.delete(f"{cds.base}/items/{item['id']}/controls/t.png")
    assert r.status_code == 200 and r.get_json()["item"]["missing_control"] is True
    assert not (cds.control / "t.png").exists()
    assert api.delete(f"{cds.base}/items/{item['id']}/controls/t.png").status_code == 404
    r = api.post(f"{cds.base}/trash/restore", json={"batch": body and r.get_json()["batch"]})
    assert (cds.control / "t.png").exists()
