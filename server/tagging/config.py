"""Backend options: saved settings, overridden per request, validated by the same rules.

Each backend declares an `Options` dataclass whose fields name their setting key in metadata
(`field(metadata={"setting": "tagging_api_model"})`). A request (a tagging run or the settings
"test" button) may override any field by its name, so the UI can test values before saving them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .. import settings as settings_mod
from ..errors import ValidationError
from . import setting_keys  # noqa: F401  (registers the keys the Options classes name)


def setting_field(key: str, default: Any = dataclasses.MISSING, **kw) -> Any:
    """A dataclass field backed by the setting `key` (its default comes from the registry). The key must be
    registered already: import the module that owns it (a KeyError here beats a silent default of None)."""
    spec = settings_mod.SETTINGS[key]
    if default is dataclasses.MISSING:
        default = spec.default
    if isinstance(default, (list, dict)):
        value = default
        return dataclasses.field(default_factory=lambda: type(value)(value), metadata={"setting": key}, **kw)
    return dataclasses.field(default=default, metadata={"setting": key}, **kw)


def build_options(cls: type, store=None, overrides: dict | None = None):
    """An instance of the Options dataclass `cls` from saved settings plus validated `overrides`."""
    overrides = dict(overrides or {})
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise ValidationError(f"Unknown option '{unknown[0]}'.", field=unknown[0], code="unknown_option")
    values = {}
    for name, f in fields.items():
        key = f.metadata.get("setting")
        if name in overrides and not settings_mod.is_masked(overrides[name]):
            values[name] = _validate(key, name, overrides[name])
        elif key and store is not None:
            stored = store.get_setting(key)
            if stored is not None:
                values[name] = stored
    return cls(**values)


def _validate(key: str | None, name: str, value: Any) -> Any:
    spec = settings_mod.SETTINGS.get(key) if key else None
    if spec is None:
        return value
    try:
        return spec.clean(value)
    except ValueError as exc:
        raise ValidationError(f"Option '{name}' {exc}.", field=name) from None

