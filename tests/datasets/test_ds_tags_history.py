"""Tag functions, batch operations over targets, undo/redo, and record_step reuse."""

import pytest

from server.datasets import editing, tags
from server.datasets.history import History, record_step
from server.errors import ValidationError


def test_tag_functions():
    assert tags.split_tags(" a ,b,, c , ") == ["a", "b", "c"]
    assert tags.add_tags("a, b", ["c", "a"], "start") == "c, a, b"
    assert tags.add_tags("a, b", "c, d") == "a, b, c, d"
    assert tags.remove_tags("a, b, c, b", ["b"]) == "a, c"
    assert tags.replace_tag("a, cat, b", "cat", "dog") == "a, dog, b"
    assert tags.replace_tag("a, cat, dog", "cat", "dog") == "a, dog"
    assert tags.replace_tag("a, cat", "cat", "") == "a"
    assert tags.replace_tag("a, cats", "cat", "dog") == "a, cats"          # exact only
    assert tags.replace_text("red cat, red hat", "red", "blue") == "blue cat, blue hat"
    assert tags.replace_text("Cat cat", "cat", "dog", case_sensitive=False) == "dog dog"
    assert tags.replace_text("a1, b22", r"(\w)(\d+)", r"\2\1", regex=True) == "1a, 22b"
    assert tags.move_to_front("a, b, ohwx", "ohwx") == "ohwx, a, b"
    assert tags.move_to_front("a, b", "ohwx") == "a, b"
    assert tags.move_to_front("a, b", "ohwx", add_if_missing=True) == "ohwx, a, b"
    assert tags.dedupe("a, b, a, c, b") == "a, b, c"
    assert tags.sort_tags("ohwx, c, B, a", keep_first=1) == "ohwx, a, B, c"
    assert tags.prepend("b", "a") == "a, b" and tags.prepend("", "a") == "a"
    assert tags.append("a", "b", separator=" ") == "a b" and tags.append(None, "b") == "b"
    assert tags.clear("x") == ""
    with pytest.raises(ValidationError):
        tags.replace_text("x", "(", "", regex=True)
    with pytest.raises(ValidationError):
        tags.op_function("nope", {})
    with pytest.raises(ValidationError):
        tags.op_function("add_tags", {"tags": []})
    with pytest.raises(ValidationError):
        tags.op_function("add_tags", {"tags": ["a"], "bogus": 1})


def _captions(ds):
    return {i["name"]: i["caption"] for i in ds.items()["items"]}


def test_batch_ops_on_selection_filter_and_all(filled, api):
    ids = [filled.item("img0.png")["id"], filled.item("img3.png")["id"]]
    r = filled.op("add_tags", {"tags": ["ohwx"], "position": "start"}, {"ids": ids})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["changed"] == 2 and r.get_json()["targeted"] == 2
    caps = _captions(filled)
    assert caps["img0.png"] == "ohwx, 1girl, solo, smile" and caps["img3.png"] == "ohwx"
    assert caps["img1.png"] == "1boy, solo"
    assert (filled.media / "img3.txt").read_text() == "ohwx"
    r = filled.op("remove_tags", {"tags": "solo"}, {"filter": {"tag": "solo"}})
    assert r.get_json()["changed"] == 3
    r = filled.op("replace_tag", {"old": "1boy", "new": "1man"}, {"names": ["img1.png"]})
    assert _captions(filled)["img1.png"] == "1man"
    r = filled.op("move_to_front", {"tag": "outdoors"})
    assert _captions(filled)["img2.png"] == "outdoors, cat"
    r = filled.op("append", {"text": "masterpiece"})
    assert r.get_json()["changed"] == 4
    r = filled.op("clear", {}, {"ids": [ids[1]]})
    assert (filled.media / "img3.txt").read_text() == ""
    freq = api.get(f"{filled.base}/tags").get_json()
    assert freq["tags"][0] == {"tag": "masterpiece", "count": 3}
    assert {t["tag"] for t in api.get(f"{filled.base}/tags", query_string={"search": "girl"}).get_json()["tags"]} \
        == {"1girl"}
    by_name = api.get(f"{filled.base}/tags", query_string={"sort": "tag"}).get_json()["tags"]
    assert [t["tag"] for t in by_name] == sorted((t["tag"] for t in by_name), key=str.casefold)
    sugg = api.get(f"{filled.base}/tags/suggest", query_string={"prefix": "1"}).get_json()["tags"]
    assert {t["tag"] for t in sugg} == {"1girl", "1man"}


def test_batch_op_bad_input(filled, api):
    cases = [
        ({"op": "explode", "target": {"all": True}}, "bad_op"),
        ({"op": "add_tags", "params": {"tags": []}, "target": {"all": True}}, "bad_tags"),
        ({"op": "add_tags", "params": {"tags": ["x"], "position": "middle"}, "target": {"all": True}}, "bad_position"),
        ({"op": "replace_text", "params": {"find": "(", "regex": True}, "target": {"all": True}}, "bad_regex"),
        ({"op": "dedupe", "target": {"ids": [999999]}}, "unknown_items"),
        ({"op": "dedupe", "target": {"names": ["../x.png"]}}, "unknown_items"),
        ({"op": "dedupe", "target": {"ids": "all"}}, "bad_target"),
        ({"op": "dedupe", "target": "everything"}, "bad_target"),
        ({"op": "dedupe", "params": [1], "target": {"all": True}}, "bad_params"),
        ({"op": "dedupe", "params": {"x": 1}, "target": {"all": True}}, "bad_params"),
    ]
    for body, code in cases:
        r = api.post(f"{filled.base}/ops", json=body)
        assert r.status_code == 422, body
        assert r.get_json()["error"]["code"] == code, (body, r.get_json())
    assert (filled.media / "img0.txt").read_text() == "1girl, solo, smile"


def test_item_tags_reorder(filled, api):
    item = filled.item("img0.png")
    r = api.put(f"{filled.base}/items/{item['id']}/tags", json={"tags": ["smile", "1girl", "solo", "new tag"]})
    assert r.status_code == 200
    assert (filled.media / "img0.txt").read_text() == "smile, 1girl, solo, new tag"
    assert r.get_json()["item"]["tags"] == ["smile", "1girl", "solo", "new tag"]
    assert api.put(f"{filled.base}/items/{item['id']}/tags", json={"tags": "a"}).status_code == 422


def test_undo_redo_batch_op(filled, api):
    original = _captions(filled)
    filled.op("replace_tag", {"old": "solo", "new": "alone"})
    changed = _captions(filled)
    assert changed["img0.png"] == "1girl, alone, smile"
    hist = api.get(f"{filled.base}/history").get_json()
    assert hist["can_undo"] and hist["undo"]["label"] == "Replace tag" and hist["undo"]["item_count"] == 3
    r = api.post(f"{filled.base}/undo")
    assert r.status_code == 200 and r.get_json()["changed"] == 3
    assert _captions(filled) == original
    assert (filled.media / "img0.txt").read_text() == "1girl, solo, smile"
    r = api.post(f"{filled.base}/redo")
    assert _captions(filled) == changed
    api.post(f"{filled.base}/undo")
    # A new operation drops what could be redone.
    filled.op("add_tags", {"tags": ["z"]}, {"names": ["img1.png"]})
    hist = api.get(f"{filled.base}/history").get_json()
    assert hist["can_redo"] is False
    assert api.post(f"{filled.base}/redo").get_json()["error"]["code"] == "nothing_to_redo"


def test_undo_restores_missing_caption_file_and_skips_outside_changes(filled, api):
    filled.op("set", {"text": "same"})
    assert (filled.media / "img3.txt").read_text() == "same"
    (filled.media / "img1.txt").write_text("edited elsewhere after the op")
    r = api.post(f"{filled.base}/undo").get_json()
    assert r["conflicts"] == ["img1.png"]
    assert not (filled.media / "img3.txt").exists()          # it had no caption file before
    assert (filled.media / "img0.txt").read_text() == "1girl, solo, smile"
    assert (filled.media / "img1.txt").read_text() == "edited elsewhere after the op"
    assert api.post(f"{filled.base}/undo").get_json()["error"]["code"] == "nothing_to_undo"


def test_caption_edits_coalesce_into_one_step(filled, api):
    item = filled.item("img0.png")
    steps = [api.put(f"{filled.base}/items/{item['id']}/caption", json={"caption": t}).get_json()["step"]
             for t in ("a", "ab", "abc")]
    assert steps[0].get("merged") is None and steps[2]["merged"] is True and steps[2]["id"] == steps[0]["id"]
    hist = api.get(f"{filled.base}/history").get_json()
    assert len(hist["steps"]) == 1
    api.post(f"{filled.base}/undo")
    assert (filled.media / "img0.txt").read_text() == "1girl, solo, smile"


def test_record_step_reusable_by_a_tagging_job(filled, svc, api):
    """What an auto-tagging job does: write many captions as ONE undoable step."""
    result = editing.apply_captions(svc, filled.id, {"img0.png": "tagged0", "img3.png": "tagged3"},
                                    "Auto-tag (WD14)")
    assert result["step"]["label"] == "Auto-tag (WD14)" and result["changed"] == 2
    api.post(f"{filled.base}/undo")
    assert (filled.media / "img0.txt").read_text() == "1girl, solo, smile"
    assert not (filled.media / "img3.txt").exists()
    # The bare history call also works for code that wrote the files itself.
    step = record_step(svc.store, filled.id, "external", [("img1.png", "1boy, solo", "x")])
    assert step["item_count"] == 1 and History(svc.store).next_undo(filled.id)["label"] == "external"
    assert record_step(svc.store, filled.id, "noop", [{"name": "a", "before": "x", "after": "x"}]) is None


def test_ops_skip_items_deleted_on_disk(filled):
    import os
    os.remove(filled.media / "img2.png")
    r = filled.op("add_tags", {"tags": ["x"]})
    body = r.get_json()
    assert body["missing"] == ["img2.png"] and body["changed"] == 3
    assert filled.items()["total"] == 3


def test_typing_back_to_the_start_leaves_no_step(filled, api):
    item = filled.item("img1.png")
    api.put(f"{filled.base}/items/{item['id']}/caption", json={"caption": "1boy, solo, x"})
    r = api.put(f"{filled.base}/items/{item['id']}/caption", json={"caption": "1boy, solo"})
    assert r.get_json()["step"] == {"id": None, "label": None, "op": None, "params": {}, "merged": True,
                                    "item_count": 0}
    assert api.get(f"{filled.base}/history").get_json()["can_undo"] is False
