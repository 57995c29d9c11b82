"""The create-task form's groups and order (training/fields.py FORM_GROUPS), served by GET /api/task-types.

A field in no group would have no place in the form (it could never be edited), a field in two would be
drawn twice; the group beside the VRAM preset must be what the presets set."""

from __future__ import annotations

from collections import Counter

from server.training import catalog
from server.training.fields import ALL_FIELDS, FORM_GROUPS


def test_every_field_is_in_exactly_one_group():
    placed = Counter(key for group in FORM_GROUPS for key in group.fields)
    keys = Counter(key for _section, key in ALL_FIELDS)
    assert max(keys.values()) == 1, "a key in both sections: groups name fields by key alone"
    assert not [k for k in keys if k not in placed], "fields in no form group"
    assert not [k for k, n in placed.items() if n > 1], "fields in two form groups (or twice in one)"
    assert not [k for k in placed if k not in keys], "form groups name fields that do not exist"
    assert len({g.key for g in FORM_GROUPS}) == len(FORM_GROUPS)


def test_the_group_beside_the_preset_is_what_the_presets_set():
    task_group = set(next(g for g in FORM_GROUPS if g.key == "task").fields)
    for ttype in catalog.public_table():
        shown = {f["key"] for f in ttype["fields"] if f["section"] == "training"}
        for variant in ttype["variants"]:
            set_by_presets = {k for values in variant["presets"].values() for k in values}
            assert set_by_presets & shown == task_group & shown, (ttype["id"], variant["key"])


def test_the_groups_are_served_with_the_table(api):
    body = api.get("/api/task-types").get_json()
    assert body["form_groups"] == [{"key": g.key, "fields": list(g.fields)} for g in FORM_GROUPS]
    assert [g["key"] for g in body["form_groups"]] == ["task", "dataset", "training", "advanced"]
    # Every field a type shows is in one served group.
    served = Counter(k for g in body["form_groups"] for k in g["fields"])
    for ttype in body["task_types"]:
        assert all(served[f["key"]] == 1 for f in ttype["fields"]), ttype["id"]
