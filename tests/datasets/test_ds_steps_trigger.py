"""Undo steps carry a machine-readable op + params (API, websocket, migration of old steps), and the
dataset-level trigger word (validation, Dataset shape)."""

import json

import pytest
import sqlite_utils

from server.datasets import editing
from server.datasets.history import PARAM_LIST_MAX, PARAM_STR_MAX, History, small_params
from server.store import migrations


def _hist(api, ds):
    return api.get(f"{ds.base}/history").get_json()


def test_batch_ops_and_edits_record_op_and_params(filled, api):
    filled.op("add_tags", {"tags": ["ohwx", "solo"], "position": "start"})
    step = _hist(api, filled)["undo"]
    assert step["op"] == "add_tags" and step["params"] == {"tags": ["ohwx", "solo"], "position": "start"}
    assert step["label"] == "Add tags" and step["item_count"] == 4

    filled.op("replace_tag", {"old": "solo", "new": "alone"})
    assert _hist(api, filled)["undo"]["params"] == {"old": "solo", "new": "alone"}
    assert filled.op("sort").get_json()["changed"] > 0
    assert (_hist(api, filled)["undo"]["op"], _hist(api, filled)["undo"]["params"]) == ("sort", {})

    item = filled.item("img1.png")
    r = api.put(f"{filled.base}/items/{item['id']}/caption", json={"caption": "typed"}).get_json()
    assert r["step"]["op"] == "edit_caption" and r["step"]["params"] == {"name": "img1.png"}
    r = api.put(f"{filled.base}/items/{item['id']}/tags", json={"tags": ["b", "a"]}).get_json()
    assert r["step"]["op"] == "edit_tags" and r["step"]["params"] == {"name": "img1.png"}

    hist = _hist(api, filled)
    assert [s["op"] for s in hist["steps"]] == ["edit_tags", "edit_caption", "sort", "replace_tag", "add_tags"]
    assert all(isinstance(s["params"], dict) for s in hist["steps"])

    undone = api.post(f"{filled.base}/undo").get_json()["step"]
    assert undone["op"] == "edit_tags" and undone["params"] == {"name": "img1.png"} and undone["undone"] is True
    hist = _hist(api, filled)
    assert hist["redo"]["op"] == "edit_tags" and hist["undo"]["op"] == "edit_caption"
    redone = api.post(f"{filled.base}/redo").get_json()["step"]
    assert redone["op"] == "edit_tags" and redone["undone"] is False

    got = api.get(filled.base).get_json()["history"]
    assert got["undo"]["op"] == "edit_tags" and got["undo"]["params"] == {"name": "img1.png"}


def test_history_event_carries_the_same_steps_as_get(filled, api, svc):
    sub = svc.bus.subscription()
    sub.subscribe(f"dataset:{filled.id}")
    filled.op("replace_tag", {"old": "solo", "new": "alone"})
    api.post(f"{filled.base}/undo")
    events = []
    while (ev := sub.get(timeout=0.2)) is not None:
        if ev["type"] == "history":
            events.append(ev["data"])
    sub.close()
    assert len(events) == 2
    after_op, after_undo = events
    assert after_op["can_undo"] is True and after_op["can_redo"] is False and after_op["redo"] is None
    assert after_op["undo"]["op"] == "replace_tag" and after_op["undo"]["params"] == {"old": "solo", "new": "alone"}
    assert "undo_label" not in after_op
    hist = _hist(api, filled)
    assert after_undo == {k: hist[k] for k in ("can_undo", "can_redo", "undo", "redo")}
    assert after_undo["redo"]["op"] == "replace_tag" and after_undo["undo"] is None


def test_step_params_are_kept_small(filled, svc):
    long = "x" * 5000
    params = small_params({"text": long, "tags": [f"t{i}" for i in range(50)], "nested": {"a": [long]}})
    assert len(params["text"]) == PARAM_STR_MAX and params["text"].endswith("…")
    assert len(params["tags"]) == PARAM_LIST_MAX
    assert len(json.dumps(params)) <= 2000
    assert small_params({f"k{i}": "y" * 99 for i in range(30)}) is not None
    step = editing.apply_captions(svc, filled.id, {"img0.png": long}, "Set caption", op="set",
                                  params={"text": long})["step"]
    assert step["op"] == "set" and len(step["params"]["text"]) == PARAM_STR_MAX
    # callers that give no op get "other" (the UI shows the English label)
    step = History(svc.store).record_step(filled.id, "external", [("img1.png", "1boy, solo", "x")])
    assert step["op"] == "other" and step["params"] == {}


def test_migration_gives_old_steps_an_op_from_their_label(tmp_path):
    db = sqlite_utils.Database(tmp_path / "old.db")
    for m in migrations.MIGRATIONS[:3]:
        m(db)
    db.execute("PRAGMA user_version = 3")
    labels = ["Replace tag", "Edit caption of a, b.png", "Edit tags of c.png", "Auto-tag (WD14)",
              "Auto-tag (Mystery)", "Something else"]
    for i, label in enumerate(labels):
        db["dataset_history"].insert({"id": i + 1, "dataset_id": "ds_00000000", "label": label, "kind": "op",
                                      "item_count": 1, "undone": 0, "created_at": 1.0, "updated_at": 1.0})
    db["datasets"].insert({"id": "ds_00000000", "name": "old", "type": "image", "created_at": 1.0,
                           "updated_at": 1.0})
    db.conn.commit()
    assert migrations.migrate(db) == len(migrations.MIGRATIONS)
    rows = {r["label"]: (r["op"], json.loads(r["params"])) for r in db["dataset_history"].rows}
    assert rows == {
        "Replace tag": ("replace_tag", {}),
        "Edit caption of a, b.png": ("edit_caption", {"name": "a, b.png"}),
        "Edit tags of c.png": ("edit_tags", {"name": "c.png"}),
        "Auto-tag (WD14)": ("autotag", {"backend": "wd14"}),
        "Auto-tag (Mystery)": ("autotag", {}),
        "Something else": ("other", {}),
    }
    assert next(db["datasets"].rows)["trigger_word"] is None


def test_trigger_word_is_part_of_the_dataset(ds, api):
    assert ds.data["trigger_word"] == ""
    r = api.patch(ds.base, json={"trigger_word": "  ohwx girl  "})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["dataset"]["trigger_word"] == "ohwx girl"
    assert api.get(ds.base).get_json()["dataset"]["trigger_word"] == "ohwx girl"
    listed = {d["id"]: d for d in api.get("/api/datasets").get_json()["datasets"]}
    assert listed[ds.id]["trigger_word"] == "ohwx girl"
    # other edits leave it alone; "" clears it
    assert api.patch(ds.base, json={"name": "Renamed"}).get_json()["dataset"]["trigger_word"] == "ohwx girl"
    assert api.patch(ds.base, json={"trigger_word": "   "}).get_json()["dataset"]["trigger_word"] == ""
    r = api.post("/api/datasets", json={"name": "With word", "trigger_word": "sks 猫"})
    assert r.status_code == 201 and r.get_json()["dataset"]["trigger_word"] == "sks 猫"


@pytest.mark.parametrize("word, code", [
    ("a, b", "bad_trigger_word"), ("a，b", "bad_trigger_word"), ("a\nb", "bad_trigger_word"),
    ("x" * 101, "trigger_word_too_long"), (12, "bad_trigger_word"),
])
def test_bad_trigger_words_are_refused(ds, api, word, code):
    r = api.patch(ds.base, json={"trigger_word": word})
    assert r.status_code == 422, r.get_json()
    err = r.get_json()["error"]
    assert err["code"] == code and err["details"]["field"] == "trigger_word"
    assert api.get(ds.base).get_json()["dataset"]["trigger_word"] == ""
    assert api.patch(ds.base, json={"trigger_word": "x" * 100}).status_code == 200
