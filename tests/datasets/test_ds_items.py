"""Listing, filtering, captions on disk, outside edits picked up by a rescan."""

import os
import time

from ds_helpers import make_image


def test_paging_sort_and_filters(filled):
    page = filled.items(limit=2, offset=0, sort="name")
    assert page["total"] == 4 and [i["name"] for i in page["items"]] == ["img0.png", "img1.png"]
    page2 = filled.items(limit=2, page=2, sort="name")
    assert [i["name"] for i in page2["items"]] == ["img2.png", "img3.png"]
    desc = filled.items(sort="name", order="desc")
    assert desc["items"][0]["name"] == "img3.png"
    assert [i["name"] for i in filled.items(sort="size")["items"]] == \
        [i["name"] for i in sorted(filled.items()["items"], key=lambda i: (i["size"], i["id"]))]
    assert {i["name"] for i in filled.items(tag="solo")["items"]} == {"img0.png", "img1.png", "img2.png"}
    assert {i["name"] for i in filled.items(tag="SOLO")["items"]} == {"img0.png", "img1.png", "img2.png"}
    assert filled.items(tag="sol")["total"] == 0                     # exact tag, not substring
    assert [i["name"] for i in filled.items(q="outdoor")["items"]] == ["img2.png"]
    assert [i["name"] for i in filled.items(q="img1", **{"in": "name"})["items"]] == ["img1.png"]
    assert filled.items(q="img1", **{"in": "caption"})["total"] == 0
    assert [i["name"] for i in filled.items(no_caption="1")["items"]] == ["img3.png"]
    # A list of names (one per line in the query), as the pre-flight report links to the grid.
    assert [i["name"] for i in filled.items(names="img3.png\nimg1.png\nnope.png")["items"]] == ["img1.png", "img3.png"]
    assert filled.items(q="%")["total"] == 0 and filled.items(q="_")["total"] == 0   # wildcards escaped
    item = filled.items(tag="1girl")["items"][0]
    assert item["tags"] == ["1girl", "solo", "smile"] and item["has_caption"] is True
    assert item["width"] == 40 and item["height"] == 30 and item["kind"] == "image"


def test_listing_bad_args(filled, api):
    for args, code in [({"limit": "0"}, "bad_number"), ({"limit": "x"}, "bad_number"), ({"limit": "9999"}, "bad_number"),
                       ({"sort": "evil; DROP"}, "bad_sort"), ({"order": "sideways"}, "bad_sort"),
                       ({"in": "body", "q": "a"}, "bad_filter"), ({"kind": "audio"}, "bad_filter"),
                       ({"page": "0"}, "bad_number")]:
        r = api.get(f"{filled.base}/items", query_string=args)
        assert r.status_code == 422 and r.get_json()["error"]["code"] == code, args


def test_ids_endpoint_selects_all_matching(filled, api):
    r = api.get(f"{filled.base}/items/ids", query_string={"tag": "solo"})
    body = r.get_json()
    assert body["total"] == 3 and sorted(body["names"]) == ["img0.png", "img1.png", "img2.png"]
    assert len(body["ids"]) == 3 and all(isinstance(i, int) for i in body["ids"])


def test_get_item(filled, api):
    item = filled.item("img0.png")
    r = api.get(f"{filled.base}/items/{item['id']}")
    assert r.status_code == 200 and r.get_json()["item"]["name"] == "img0.png"
    assert api.get(f"{filled.base}/items/999999").get_json()["error"]["code"] == "item_not_found"
    assert api.get(f"{filled.base}/items/abc").status_code == 404


def test_caption_edit_is_written_atomically_to_disk(filled, api):
    item = filled.item("img3.png")
    r = api.put(f"{filled.base}/items/{item['id']}/caption", json={"caption": "新しい, caption\r\nline"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["item"]["caption"] == "新しい, caption\nline" and body["step"]["label"].startswith("Edit caption")
    assert (filled.media / "img3.txt").read_bytes() == "新しい, caption\nline".encode("utf-8")
    leftovers = [p.name for p in filled.media.iterdir() if p.name.startswith(".~")]
    assert leftovers == []
    assert filled.items(no_caption="1")["total"] == 0


def test_caption_bad_input(filled, api):
    item = filled.item("img0.png")
    r = api.put(f"{filled.base}/items/{item['id']}/caption", json={"text": "wrong key"})
    assert r.get_json()["error"]["code"] == "caption_required"
    r = api.put(f"{filled.base}/items/{item['id']}/caption", json={"caption": 5})
    assert r.get_json()["error"]["code"] == "bad_text"
    r = api.put(f"{filled.base}/items/424242/caption", json={"caption": "x"})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "item_not_found"


def test_caption_of_item_deleted_on_disk(filled, api):
    item = filled.item("img1.png")
    os.remove(filled.media / "img1.png")
    r = api.put(f"{filled.base}/items/{item['id']}/caption", json={"caption": "x"})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "item_missing"
    assert filled.items()["total"] == 3                    # the stale row is gone
    assert (filled.media / "img1.txt").read_text() == "1boy, solo"   # orphan caption left untouched


def test_caption_conflict_with_outside_edit(filled, api):
    item = filled.item("img0.png")
    (filled.media / "img0.txt").write_text("edited in another tool")
    r = api.put(f"{filled.base}/items/{item['id']}/caption",
                json={"caption": "mine", "expected": "1girl, solo, smile"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "caption_changed"
    assert r.get_json()["error"]["details"]["current"] == "edited in another tool"
    assert (filled.media / "img0.txt").read_text() == "edited in another tool"


def test_rescan_picks_up_outside_changes(filled, api, svc):
    before = {i["name"]: i for i in filled.items()["items"]}
    make_image(filled.media / "new.png", size=(10, 10))
    (filled.media / "new.txt").write_text("outside")
    os.remove(filled.media / "img2.png")
    (filled.media / "img0.txt").write_text("changed, outside")
    later = time.time() + 5
    os.utime(filled.media / "img0.txt", (later, later))
    make_image(filled.media / "img1.png", size=(99, 77))      # replaced image
    (filled.media / "readme.md").write_text("ignored")
    r = api.post(f"{filled.base}/rescan")
    result = r.get_json()["result"]
    assert result == {"added": 1, "removed": 1, "updated": 2, "total": 4}
    after = {i["name"]: i for i in filled.items()["items"]}
    assert set(after) == {"img0.png", "img1.png", "img3.png", "new.png"}
    assert after["img0.png"]["caption"] == "changed, outside"
    assert (after["img1.png"]["width"], after["img1.png"]["height"]) == (99, 77)
    assert after["img0.png"]["id"] == before["img0.png"]["id"]       # ids survive a rescan
    assert after["new.png"]["caption"] == "outside"
    assert api.post(f"{filled.base}/rescan").get_json()["result"]["updated"] == 0


def test_events_on_dataset_topic(filled, api, svc):
    sub = svc.bus.subscription()
    sub.subscribe(f"dataset:{filled.id}")
    item = filled.item("img0.png")
    api.put(f"{filled.base}/items/{item['id']}/caption", json={"caption": "evented"})
    types = []
    while (ev := sub.get(timeout=0.2)) is not None:
        types.append(ev["type"])
        if ev["type"] == "item_updated":
            assert ev["data"]["caption"] == "evented"
    assert "item_updated" in types and "history" in types
    sub.close()
