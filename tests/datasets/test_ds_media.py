"""/media/datasets/...: full files with Range, thumbnails with cache headers, traversal refused."""

import io

from PIL import Image

from ds_helpers import make_image, make_video


def test_full_file_and_range(filled, api):
    item = filled.item("img0.png")
    r = api.get(item["url"])
    assert r.status_code == 200 and r.data == (filled.media / "img0.png").read_bytes()
    assert r.headers["Accept-Ranges"] == "bytes" and "max-age" in r.headers["Cache-Control"]
    r = api.get(item["url"], headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and len(r.data) == 10


def test_video_range_for_playback(make_ds, src, api):
    vds = make_ds("video")
    make_video(src / "clip.mp4", frames=8)
    vds.import_folder(src)
    item = vds.item("clip.mp4")
    r = api.get(item["url"], headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.headers["Content-Range"].startswith("bytes 100-199/")
    assert r.mimetype == "video/mp4"


def test_thumbnail_cache_headers_and_304(filled, api, svc):
    item = filled.item("img0.png")
    r = api.get(item["thumb_url"])
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert r.headers.get("ETag") and r.headers.get("Last-Modified")
    assert "max-age=86400" in r.headers["Cache-Control"]
    img = Image.open(io.BytesIO(r.data))
    assert img.size == (40, 30)            # never upscaled
    again = api.get(item["thumb_url"], headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    cached = svc.layout.cache / "thumbs" / filled.id / "media" / "img0.png.jpg"
    assert cached.is_file() and not any(p.suffix == ".jpg" for p in filled.media.iterdir())


def test_thumbnail_honours_exif_orientation_and_downscales(ds, src, api):
    # 800x400 stored landscape, EXIF says "rotate 90": shown as portrait 400x800.
    make_image(src / "photo.jpg", size=(800, 400), fmt="JPEG", exif_orientation=6)
    ds.import_folder(src)
    item = ds.item("photo.jpg")
    img = Image.open(io.BytesIO(api.get(item["thumb_url"]).data))
    assert img.size[1] == 384 and img.size[0] == 192


def test_thumbnail_regenerated_when_file_changes(filled, api):
    item = filled.item("img0.png")
    first = Image.open(io.BytesIO(api.get(item["thumb_url"]).data)).size
    make_image(filled.media / "img0.png", size=(20, 60))
    import os, time
    t = time.time() + 3
    os.utime(filled.media / "img0.png", (t, t))
    second = Image.open(io.BytesIO(api.get(f"/media/datasets/{filled.id}/thumb/media/img0.png").data)).size
    assert first == (40, 30) and second == (20, 60)


def test_corrupt_image_flagged_not_fatal(filled, api, svc):
    (filled.media / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    api.post(f"{filled.base}/rescan")
    bad = filled.item("bad.png")
    assert bad["broken"] is True and "readable" in bad["error"]
    r = api.get(bad["thumb_url"])
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "corrupt_media"
    # The whole-dataset thumbnail job still finishes and reports the broken file.
    job = svc.jobs.wait(api.post(f"{filled.base}/thumbnails").get_json()["job"]["id"])
    assert job["status"] == "done" and job["result"]["total"] == 4
    assert filled.items(broken="1")["total"] == 1


def test_thumbnail_job_marks_broken_found_late(filled, api, svc):
    # Broken after indexing (same size and mtime trick is not needed: the job decodes for real).
    path = filled.media / "img2.png"
    data = path.read_bytes()
    st = path.stat()
    path.write_bytes(data[:60] + b"\0" * (len(data) - 60))
    import os
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    thumbs = svc.layout.cache / "thumbs" / filled.id / "media"
    for p in thumbs.glob("*"):
        p.unlink()
    job = svc.jobs.wait(api.post(f"{filled.base}/thumbnails").get_json()["job"]["id"])
    assert [b["name"] for b in job["result"]["broken"]] == ["img2.png"]
    assert filled.item("img2.png")["broken"] is True
    assert job["result"]["made"] == 3


def test_media_path_traversal_refused(filled, api, svc):
    secret = svc.layout.root / "secret.png"
    make_image(secret)
    base = f"/media/datasets/{filled.id}"
    for url in (f"{base}/media/../../../secret.png", f"{base}/media/..%2F..%2F..%2Fsecret.png",
                f"{base}/media/%2E%2E/%2E%2E/secret.png", f"{base}/media/..\\..\\secret.png",
                f"{base}/media/{secret}", f"{base}/thumb/media/..%2F..%2Fsecret.png",
                f"{base}/media/img0.txt", f"{base}/other/img0.png", f"{base}/thumb/other/img0.png",
                "/media/datasets/..%2F..%2Fsecret/media/img0.png"):
        r = api.get(url)
        assert r.status_code in (400, 404, 422), url
        assert r.data != secret.read_bytes(), url
    assert api.get(f"{base}/media/missing.png").get_json()["error"]["code"] == "file_not_found"


def test_control_media(make_ds, src, api):
    cds = make_ds("image_control")
    make_image(src / "a.png")
    make_image(src / "control" / "a.png", size=(16, 16))
    cds.import_folder(src)
    ctrl = cds.item("a.png")["controls"][0]
    assert Image.open(io.BytesIO(api.get(ctrl["url"]).data)).size == (16, 16)
    assert api.get(ctrl["thumb_url"]).status_code == 200


def test_odd_but_valid_names_round_trip(ds, src, api):
    for i, name in enumerate(("猫 cat #1.png", "100% done?.png", "a&b=c.png")):
        make_image(src / name.replace("?", "_"), color=(i, 0, 0))
    make_image(src / "con.png", color=(9, 0, 0))                                # reserved on Windows
    ds.import_folder(src)
    names = {i["name"] for i in ds.items()["items"]}
    assert names == {"猫 cat #1.png", "100% done_.png", "a&b=c.png", "_con.png"}
    for item in ds.items()["items"]:
        assert api.get(item["url"]).status_code == 200, item["url"]
        assert api.get(item["thumb_url"]).status_code == 200, item["thumb_url"]
