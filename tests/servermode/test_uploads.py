"""Resumable uploads: chunks at the offset the server holds, the file renamed where it belongs when
complete (a model into the models folder, a dataset archive into an import)."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from PIL import Image

from server import uploads


@pytest.fixture(autouse=True)
def _jobs_end(svc):
    yield
    for _ in range(5):  # an import may start a thumbnail job when it ends
        active = svc.jobs.list(active_only=True)
        if not active:
            break
        for job in active:
            svc.jobs.cancel(job["id"])
            svc.jobs.wait(job["id"])


def put(api, upload_id, data, start, size):
    return api.put(f"/api/uploads/{upload_id}", data=data,
                   headers={"Content-Range": f"bytes {start}-{start + len(data) - 1}/{size}"})


def test_model_upload_in_chunks_lands_in_the_models_folder(api, svc):
    blob = os.urandom(2_500_001)
    r = api.post("/api/uploads", json={"name": "my lora.safetensors", "size": len(blob), "purpose": "model"})
    assert r.status_code == 201, r.get_json()
    uid = r.get_json()["id"]
    assert put(api, uid, blob[:1_000_000], 0, len(blob)).get_json()["offset"] == 1_000_000
    # a chunk from the wrong place is refused with the offset to go on from
    r = put(api, uid, blob[500_000:600_000], 500_000, len(blob))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "upload_offset_mismatch"
    assert r.get_json()["error"]["details"]["offset"] == 1_000_000
    assert api.get(f"/api/uploads/{uid}").get_json()["offset"] == 1_000_000
    r = put(api, uid, blob[1_000_000:], 1_000_000, len(blob))
    body = r.get_json()
    assert body["done"] is True
    dest = svc.layout.models / "my lora.safetensors"
    assert body["result"]["path"] == str(dest) and dest.read_bytes() == blob
    assert api.get(f"/api/uploads/{uid}").status_code == 404  # finished: nothing left behind
    assert not any((svc.layout.cache / "resumable").iterdir())
    # the same name again gets a new one, never overwriting the first
    uid2 = api.post("/api/uploads", json={"name": "my lora.safetensors", "size": 3, "purpose": "model"}).get_json()["id"]
    assert put(api, uid2, b"abc", 0, 3).get_json()["result"]["path"] == str(svc.layout.models / "my lora_1.safetensors")
    assert dest.read_bytes() == blob


def test_a_chunk_cut_short_keeps_what_arrived(api, svc):
    blob = os.urandom(3 * uploads.BLOCK + 5)
    uid = api.post("/api/uploads", json={"name": "m.pt", "size": len(blob), "purpose": "model"}).get_json()["id"]
    # the body ends after 2 blocks of a range that promised the whole file, as when the connection drops
    r = api.put(f"/api/uploads/{uid}", input_stream=io.BytesIO(blob[: 2 * uploads.BLOCK]),
                headers={"Content-Range": f"bytes 0-{len(blob) - 1}/{len(blob)}",
                         "Content-Length": str(2 * uploads.BLOCK)})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "upload_incomplete"
    offset = api.get(f"/api/uploads/{uid}").get_json()["offset"]
    assert offset == 2 * uploads.BLOCK
    done = put(api, uid, blob[offset:], offset, len(blob)).get_json()
    assert (svc.layout.models / "m.pt").read_bytes() == blob and done["done"]


def test_bad_uploads_are_refused(api):
    cases = [({"name": "x.safetensors", "size": 0, "purpose": "model"}, "empty_upload"),
             ({"name": "x.exe", "size": 5, "purpose": "model"}, "bad_model_file"),
             ({"name": "x.safetensors", "size": 5, "purpose": "other"}, "bad_upload_purpose"),
             ({"name": "x.safetensors", "size": uploads.MAX_UPLOAD_BYTES + 1, "purpose": "model"}, "upload_too_large"),
             ({"name": "x.zip", "size": 5, "purpose": "dataset", "dataset_id": "ds_nothere"}, None)]
    for body, code in cases:
        r = api.post("/api/uploads", json=body)
        assert r.status_code in (404, 422), (body, r.status_code)
        if code:
            assert r.get_json()["error"]["code"] == code, body
    uid = api.post("/api/uploads", json={"name": "x.pt", "size": 10, "purpose": "model"}).get_json()["id"]
    for header in ("bytes 0-9/11", "bytes 0-10/10", "bytes 5-2/10", "0-9/10", ""):
        r = api.put(f"/api/uploads/{uid}", data=b"0123456789", headers={"Content-Range": header})
        assert r.status_code == 422 and r.get_json()["error"]["code"] == "bad_content_range", header
    for bad in ("../../etc", "0" * 32, "x"):
        assert api.get(f"/api/uploads/{bad}").status_code == 404
    assert api.delete(f"/api/uploads/{uid}").status_code == 200
    assert api.get(f"/api/uploads/{uid}").status_code == 404


def test_dataset_archive_upload_is_imported(api, svc):
    ds = api.post("/api/datasets", json={"type": "image", "name": "up"}).get_json()["dataset"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, color in enumerate(("red", "blue")):
            img = io.BytesIO()
            Image.new("RGB", (40, 30), color).save(img, "PNG")
            zf.writestr(f"set/{color}.png", img.getvalue())
            zf.writestr(f"set/{color}.txt", f"a {color} square")
    blob = buf.getvalue()
    uid = api.post("/api/uploads", json={"name": "set.zip", "size": len(blob), "purpose": "dataset",
                                        "dataset_id": ds["id"]}).get_json()["id"]
    half = len(blob) // 2
    put(api, uid, blob[:half], 0, len(blob))
    result = put(api, uid, blob[half:], half, len(blob)).get_json()["result"]
    job = svc.jobs.wait(result["job"]["id"])
    assert job["status"] == "done", job
    items = api.get(f"/api/datasets/{ds['id']}/items").get_json()["items"]
    assert sorted(i["name"] for i in items) == ["blue.png", "red.png"]
    assert (svc.layout.datasets / ds["id"] / "media" / "red.txt").read_text() == "a red square"
