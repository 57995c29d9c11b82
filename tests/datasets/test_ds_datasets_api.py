"""Dataset rows: create, list, get, rename, type change, bad ids."""

from ds_helpers import make_image


def test_create_list_get(api, svc):
    r = api.post("/api/datasets", json={})
    assert r.status_code == 201
    first = r.get_json()["dataset"]
    assert first["name"] == "New dataset" and first["type"] == "image" and first["item_count"] == 0
    second = api.post("/api/datasets", json={"name": " 猫 ", "type": "video"}).get_json()["dataset"]
    assert second["name"] == "猫" and second["type"] == "video"
    third = api.post("/api/datasets", json={}).get_json()["dataset"]
    assert third["name"] == "New dataset 2"
    listed = api.get("/api/datasets").get_json()["datasets"]
    assert {d["id"] for d in listed} == {first["id"], second["id"], third["id"]}
    got = api.get(f"/api/datasets/{first['id']}").get_json()
    assert got["dataset"]["id"] == first["id"] and got["history"]["can_undo"] is False
    assert (svc.layout.datasets / first["id"] / "media").is_dir()


def test_create_validation(api):
    r = api.post("/api/datasets", json={"type": "audio"})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "bad_type"
    r = api.post("/api/datasets", json={"name": "   "})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "name_required"
    r = api.post("/api/datasets", json={"name": "x" * 500})
    assert r.get_json()["error"]["code"] == "name_too_long"
    r = api.post("/api/datasets", data="not json", content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_json"


def test_unknown_and_malformed_ids(api):
    for bad in ("ds_00000000", "nope", "..", "ds_ZZZZZZZZ", "ds_0000000g"):
        r = api.get(f"/api/datasets/{bad}")
        assert r.status_code == 404, bad
        assert r.get_json()["error"]["code"] in ("dataset_not_found", "not_found")
    # An encoded traversal never reaches a dataset folder: no route matches it.
    assert api.get("/api/datasets/..%2F..%2Fetc").status_code == 404
    assert api.get("/api/datasets/ds_00000000/items").status_code == 404
    assert api.post("/api/datasets/ds_00000000/ops", json={"op": "dedupe", "target": {"all": True}}).status_code == 404


def test_needs_secret(client, ds):
    assert client.get("/api/datasets").status_code == 401
    assert client.get(f"/media/datasets/{ds.id}/thumb/media/a.png").status_code == 401


def test_rename_and_type_change(ds, api, src):
    make_image(src / "a.png")
    ds.import_folder(src)
    r = api.patch(ds.base, json={"name": "Renamed"})
    assert r.status_code == 200 and r.get_json()["dataset"]["name"] == "Renamed"
    effects = api.get(f"{ds.base}/type-effects", query_string={"type": "video"}).get_json()["effects"]
    assert effects["from"] == "image" and effects["to"] == "video"
    assert effects["notes"][0]["code"] == "unusable_items" and effects["notes"][0]["count"] == 1
    effects = api.get(f"{ds.base}/type-effects", query_string={"type": "image_control"}).get_json()["effects"]
    assert effects["notes"][0]["code"] == "controls_missing"
    r = api.patch(ds.base, json={"type": "image_control"})
    d = r.get_json()["dataset"]
    assert d["type"] == "image_control" and d["missing_control_count"] == 1
    item = ds.item("a.png")
    assert item["missing_control"] is True
    r = api.patch(ds.base, json={"type": "video"})
    assert ds.item("a.png")["unsupported"] is True
    assert api.patch(ds.base, json={"type": "x"}).status_code == 422


def test_counts_and_cover(filled, api):
    d = api.get(filled.base).get_json()["dataset"]
    assert d["item_count"] == 4 and d["captioned_count"] == 3
    assert d["cover"]["name"] == "img0.png"
    assert d["cover"]["thumb_url"].startswith(f"/media/datasets/{filled.id}/thumb/media/img0.png")
