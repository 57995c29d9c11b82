"""The settings registry: every feature's keys served as one schema, validation that follows the schema's
types and limits, and a registry that knows no feature (no import cycle with the model library)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from server import settings

ROOT = Path(__file__).resolve().parents[2]


def test_schema_covers_every_key_and_no_value(api):
    values = api.get("/api/settings").json["settings"]
    api.patch("/api/settings", json={"tagging_api_key": "sk-secret-abcdefghij"})
    schema = api.get("/api/settings/schema").json["settings"]
    assert [s["key"] for s in schema] == list(values)  # one entry per key, nothing else
    assert "sk-secret" not in str(schema)               # the schema carries defaults, never a saved value
    by_key = {s["key"]: s for s in schema}
    assert by_key["tagging_api_key"]["secret"] is True and by_key["tagging_api_key"]["default"] == ""
    assert by_key["tagging_video_frames"] == {**by_key["tagging_video_frames"], "type": "int", "default": 4,
                                              "min": 1, "max": 16, "group": "tagging"}
    assert by_key["theme"]["choices"] == ["system", "light", "dark"]
    assert by_key["browse_roots"]["type"] == "paths" and by_key["model_library"]["type"] == "object"
    assert {s["type"] for s in schema} <= set(settings.TYPES)
    for s in schema:  # the defaults the schema serves are what an untouched store reads
        if not s["secret"]:
            assert values[s["key"]] == s["default"], s["key"]


def test_limits_in_the_schema_are_the_limits_enforced(api):
    schema = api.get("/api/settings/schema").json["settings"]
    numeric = [s for s in schema if s["type"] in ("int", "number")]
    assert len(numeric) >= 10
    for s in numeric:
        assert api.patch("/api/settings", json={s["key"]: s["max"]}).status_code == 200, s["key"]
        too_big = s["max"] + 1
        resp = api.patch("/api/settings", json={s["key"]: too_big})
        assert resp.status_code == 422 and resp.json["error"]["details"]["field"] == s["key"], s["key"]
        if s["type"] == "int":
            assert api.patch("/api/settings", json={s["key"]: s["min"] + 0.5}).status_code == 422, s["key"]
    for s in (s for s in schema if s["type"] == "choice"):
        for choice in s["choices"]:
            assert api.patch("/api/settings", json={s["key"]: choice}).status_code == 200, (s["key"], choice)
        assert api.patch("/api/settings", json={s["key"]: "no-such-choice"}).status_code == 422, s["key"]


def test_feature_validators_run_after_the_type_check(api):
    resp = api.patch("/api/settings", json={"tagging_api_base_url": "ftp://x"})
    assert resp.status_code == 422 and resp.json["error"]["details"]["field"] == "tagging_api_base_url"
    saved = api.patch("/api/settings", json={"tagging_api_base_url": " https://x.example/v1/ "}).json["settings"]
    assert saved["tagging_api_base_url"] == "https://x.example/v1"
    resp = api.patch("/api/settings", json={"browse_roots": ["relative/dir"]})
    assert resp.status_code == 422 and "absolute" in resp.json["error"]["message"]
    resp = api.patch("/api/settings", json={"model_library": {"no-such-slot": "/x"}})
    assert resp.status_code == 422 and "no-such-slot" in resp.json["error"]["message"]


def test_a_key_belongs_to_one_feature():
    spec = settings.Setting("language", "choice", "en", choices=("en",))
    with pytest.raises(ValueError, match="registered twice"):
        settings.register(spec)
    assert settings.SETTINGS["language"].default == "zh-CN"
    with pytest.raises(ValueError, match="not one of its choices"):
        settings.Setting("x_demo", "choice", "c", choices=("a", "b"))
    with pytest.raises(ValueError, match="unknown type"):
        settings.Setting("x_demo", "colour", "")


def test_the_registry_imports_no_feature():
    """settings.py names no feature: each feature registers its keys, so nothing imports back up
    (settings.py and models/library.py imported each other)."""
    tree = ast.parse((ROOT / "server" / "settings.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            imported.add(node.module or "")
            imported.update(a.name for a in node.names if not node.module)
    assert imported <= {"errors", "paths"}, imported


@pytest.mark.parametrize("module", ["musubi_qwen_vl", "openai_api", "wd14"])
def test_a_backend_imported_first_loads_every_key_it_names(module):
    """A fresh interpreter: the backend's Options take their defaults from keys another feature registers
    (musubi_dir belongs to the runtime), so the module must import that owner itself."""
    code = (f"import dataclasses, server.tagging.{module} as m, server.settings as s\n"
            "cls = next(v.Options for v in vars(m).values() if isinstance(v, type) and v.__module__ == m.__name__ and hasattr(v, 'Options'))\n"
            "opts = cls()\n"
            "for f in dataclasses.fields(opts):\n"
            "    key = f.metadata.get('setting')\n"
            "    assert key is None or getattr(opts, f.name) == s.SETTINGS[key].default, f.name\n"
            "print('ok')")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.stdout.strip() == "ok", res.stderr[-2000:]
