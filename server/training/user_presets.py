"""The user's own task presets: named snapshots of a create-task form, kept in the settings table.

Stored under the internal settings key `training_presets` (not one of the user-editable settings
in server/settings.py, so it never shows on the settings page) as `{name: {"config", "saved_at"}}`.
A preset is a task config without the task's own identity (name, dataset): it is checked with
config.check() when saved, so loading one always gives a config the server accepts.
"""

from __future__ import annotations

import time

from ..errors import NotFound, ValidationError
from . import config as task_config

KEY = "training_presets"
NAME_MAX = 60
LIMIT = 200
# What a preset does not carry: each task names itself and picks its own data.
PERSONAL = ("name", "dataset_id")


def _all(store) -> dict:
    value = store.get_setting(KEY, {}) or {}
    return value if isinstance(value, dict) else {}


def list_presets(store) -> list[dict]:
    return sorted(({"name": name, **entry} for name, entry in _all(store).items()),
                  key=lambda p: p["name"].lower())


def save(store, name, config: dict) -> dict:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_MAX:
        raise ValidationError(f"Give the preset a name (1-{NAME_MAX} characters).", field="name")
    name = name.strip()
    if not isinstance(config, dict):
        raise ValidationError("The preset needs a task config.", field="config")
    # Check it as a task would be checked (a placeholder name: presets carry none).
    clean = task_config.check({**{k: v for k, v in config.items() if k not in PERSONAL}, "name": "preset"})
    for key in PERSONAL:
        clean.pop(key, None)
    presets = _all(store)
    if name not in presets and len(presets) >= LIMIT:
        raise ValidationError(f"At most {LIMIT} presets can be kept; delete some first.", field="name")
    presets[name] = {"config": clean, "saved_at": time.time()}
    store.set_setting(KEY, presets)
    return {"name": name, **presets[name]}


def delete(store, name: str) -> None:
    presets = _all(store)
    if name not in presets:
        raise NotFound(f"No preset named {name}.", code="preset_not_found")
    del presets[name]
    store.set_setting(KEY, presets)
