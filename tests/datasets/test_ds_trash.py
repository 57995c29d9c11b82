"""Deleting items and datasets goes through the trash; restoring; emptying needs confirm."""

from ds_helpers import make_image


def test_delete_items_and_restore(filled, api, svc):
    ids = [filled.item("img0.png")["id"], filled.item("img3.png")["id"]]
    r = api.post(f"{filled.base}/items/delete", json={"target": {"ids": ids}})
    body = r.get_json()
    assert r.status_code == 200 and body["deleted"] == 2
    assert not (filled.media / "img0.png").exists() and not (filled.media / "img0.txt").exists()
    assert filled.items()["total"] == 2
    entries = api.get(f"{filled.base}/trash").get_json()["entries"]
    assert {e["name"] for e in entries} == {"img0.png", "img3.png"}
    e0 = next(e for e in entries if e["name"] == "img0.png")
    assert {f["name"] for f in e0["files"]} == {"img0.png", "img0.txt"}
    r = api.post(f"{filled.base}/trash/restore", json={"batch": body["batch"]})
    assert {x["restored_as"] for x in r.get_json()["restored"]} == {"img0.png", "img3.png"}
    assert (filled.media / "img0.txt").read_text() == "1girl, solo, smile"
    assert filled.items()["total"] == 4
    assert api.get(f"{filled.base}/trash").get_json()["entries"] == []


def test_restore_with_name_taken_keeps_pairing(filled, api, src):
    item = filled.item("img1.png")
    api.post(f"{filled.base}/items/delete", json={"target": {"ids": [item["id"]]}})
    make_image(filled.media / "img1.jpg", fmt="JPEG")   # the stem was taken meanwhile
    api.post(f"{filled.base}/rescan")
    entry = api.get(f"{filled.base}/trash").get_json()["entries"][0]
    r = api.post(f"{filled.base}/trash/restore", json={"ids": [entry["id"]]})
    assert r.get_json()["restored"] == [{"name": "img1.png", "restored_as": "img1_1.png"}]
    assert (filled.media / "img1_1.txt").read_text() == "1boy, solo"
    assert filled.item("img1_1.png")["caption"] == "1boy, solo"


def test_delete_by_filter_and_bad_targets(filled, api):
    r = api.post(f"{filled.base}/items/delete", json={"target": {"filter": {"no_caption": True}}})
    assert r.get_json()["names"] == ["img3.png"]
    assert api.post(f"{filled.base}/items/delete", json={"target": {"ids": [123456]}}).status_code == 422
    assert api.post(f"{filled.base}/items/delete", json={}).get_json()["error"]["code"] == "bad_target"
    r = api.post(f"{filled.base}/trash/restore", json={"ids": [999]})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "trash_entry_not_found"
    assert api.post(f"{filled.base}/trash/restore", json={}).get_json()["error"]["code"] == "bad_target"


def test_empty_item_trash_needs_confirm(filled, api, svc):
    api.post(f"{filled.base}/items/delete", json={"target": {"all": True}})
    r = api.post(f"{filled.base}/trash/empty", json={"confirm": "yes"})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "confirm_required"
    assert len(api.get(f"{filled.base}/trash").get_json()["entries"]) == 4
    r = api.post(f"{filled.base}/trash/empty", json={"confirm": True})
    assert r.get_json() == {"deleted": 4}
    assert not (svc.layout.trash / "items" / filled.id).exists()


def test_dataset_trash_restore_and_purge(filled, api, svc):
    r = api.delete(filled.base)
    assert r.status_code == 200 and r.get_json()["dataset"]["trashed_at"]
    assert not (svc.layout.datasets / filled.id).exists()
    assert (svc.layout.trash / "datasets" / filled.id / "media" / "img0.png").is_file()
    assert filled.id not in {d["id"] for d in api.get("/api/datasets").get_json()["datasets"]}
    assert api.get(filled.base).get_json()["error"]["code"] == "dataset_trashed"
    assert api.get(f"{filled.base}/items").status_code == 409
    assert api.get(f"/media/datasets/{filled.id}/media/img0.png").status_code == 409
    listed = api.get("/api/trash").get_json()["datasets"]
    assert [d["id"] for d in listed] == [filled.id] and listed[0]["item_count"] == 4
    r = api.post(f"{filled.base}/restore")
    assert r.status_code == 200 and r.get_json()["dataset"]["item_count"] == 4
    assert (filled.media / "img0.txt").read_text() == "1girl, solo, smile"
    assert api.post(f"{filled.base}/restore").get_json()["error"]["code"] == "not_in_trash"
    # Purge: only from the trash, only with confirm.
    assert api.post(f"/api/trash/datasets/{filled.id}/purge", json={"confirm": True}).status_code == 409
    api.delete(filled.base)
    assert api.post(f"/api/trash/datasets/{filled.id}/purge", json={}).status_code == 422
    assert api.post(f"/api/trash/datasets/{filled.id}/purge", json={"confirm": True}).status_code == 200
    assert not (svc.layout.trash / "datasets" / filled.id).exists()
    assert api.get(filled.base).status_code == 404


def test_empty_whole_trash(make_ds, api, src, svc):
    a, b = make_ds(name="a"), make_ds(name="b")
    make_image(src / "x.png")
    b.import_folder(src)
    b.wait_jobs()
    api.post(f"{b.base}/items/delete", json={"target": {"all": True}})
    api.delete(a.base)
    assert api.post("/api/trash/empty", json={}).status_code == 422
    r = api.post("/api/trash/empty", json={"confirm": True})
    assert r.get_json() == {"datasets": 1, "items": 1}
    assert api.get("/api/trash").get_json() == {"datasets": [], "item_counts": {}}
    assert api.get(a.base).status_code == 404 and api.get(b.base).status_code == 200


def test_dataset_with_running_job_is_not_trashed(filled, api, svc):
    import threading
    release = threading.Event()
    job = svc.jobs.submit("test", "blocker", lambda ctx: release.wait(5), owner=f"dataset:{filled.id}")
    try:
        r = api.delete(filled.base)
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "dataset_busy"
    finally:
        release.set()
        svc.jobs.wait(job["id"])


def test_trashing_stops_a_thumbnail_job(filled, api, svc):
    import threading
    started = threading.Event()

    def slow(ctx):
        started.set()
        while True:
            ctx.check()
            threading.Event().wait(0.01)

    job = svc.jobs.submit("thumbnails", "slow thumbs", slow, owner=f"dataset:{filled.id}")
    started.wait(5)
    r = api.delete(filled.base)
    assert r.status_code == 200
    assert svc.jobs.get(job["id"])["status"] == "cancelled"
