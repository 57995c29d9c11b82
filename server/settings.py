"""User settings: the keys the app knows, their defaults and how each is validated.

Features add their own keys to SETTINGS. Unknown keys are refused so a typo in the UI shows up
as an error instead of a setting that silently does nothing. Secret values (API keys) are stored
as given but only ever returned masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .errors import ValidationError

LANGUAGES = ("zh-CN", "en")
THEMES = ("light", "dark", "system")


@dataclass
class Setting:
    default: Any
    validate: Callable[[Any], Any]
    secret: bool = False


def _choice(*choices):
    def check(value):
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(map(str, choices))}")
        return value
    return check


def _window(value):
    if not isinstance(value, dict):
        raise ValueError("must be an object")
    out = {}
    for key in ("width", "height", "x", "y"):
        if key in value and value[key] is not None:
            if not isinstance(value[key], (int, float)):
                raise ValueError(f"{key} must be a number")
            out[key] = int(value[key])
    if "maximized" in value:
        out["maximized"] = bool(value["maximized"])
    return out


def _bool(value):
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


SETTINGS: dict[str, Setting] = {
    "language": Setting("zh-CN", _choice(*LANGUAGES)),
    "theme": Setting("system", _choice(*THEMES)),
    "window": Setting({}, _window),
    "first_run_done": Setting(False, _bool),
}


def mask_secret(value: str | None) -> str:
    if not value:
        return ""
    value = str(value)
    return "•" * 6 + value[-4:] if len(value) > 8 else "•" * len(value)


def read_all(store) -> dict:
    stored = store.get_settings()
    out = {}
    for key, spec in SETTINGS.items():
        value = stored.get(key, spec.default)
        out[key] = mask_secret(value) if spec.secret else value
    return out


def update(store, changes: dict) -> dict:
    cleaned = {}
    for key, value in changes.items():
        spec = SETTINGS.get(key)
        if spec is None:
            raise ValidationError(f"Unknown setting '{key}'.", field=key, code="unknown_setting")
        try:
            cleaned[key] = spec.validate(value)
        except ValueError as exc:
            raise ValidationError(f"Setting '{key}' {exc}.", field=key) from None
    for key, value in cleaned.items():
        store.set_setting(key, value)
    return read_all(store)
