"""User settings: a registry of the keys the app knows, and reading/saving them.

Each feature declares its own keys next to its code and `register()`s them (server/tagging/setting_keys.py,
server/runtime/setting_keys.py, server/models/library.py, server/system/browse.py); this module owns only the
app's own keys (language, theme, window) and knows no feature. A `Setting` is one fact in one place: its type
and limits give both the validation here and the schema the settings page is built from
(GET /api/settings/schema), so the UI never declares types, defaults or ranges of its own.

Unknown keys are refused so a typo in the UI shows up as an error instead of a setting that silently does
nothing. Secret values (API keys) are stored as given but only ever returned masked.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import ValidationError
from .paths import user_path

# What a setting holds, as the settings page edits it:
#   choice   one of `choices`             bool     true/false           int / number  within [min, max]
#   text     one line (trimmed by the UI)  longtext many lines, kept as typed (prompts)
#   url      an address                    path     an absolute path or "" (the built-in default)
#   words    a list of tags (a comma-separated text field)   paths   a list of folders (one per line)
#   object   structured; edited by the feature's own component, never by a generic field
TYPES = ("choice", "bool", "int", "number", "text", "longtext", "url", "path", "words", "paths", "object")


@dataclass(frozen=True)
class Setting:
    key: str
    type: str
    default: Any
    # Extra checks on top of the type's (a URL's schemes, a path's form); returns the cleaned value or
    # raises ValueError with a sentence that ends "Setting '<key>' ...".
    validate: Callable[[Any], Any] | None = None
    secret: bool = False
    # Where the settings page shows it ("general", "tagging.api", ...); None = internal, never shown.
    group: str | None = None
    label_key: str | None = None      # i18n keys of the field's label and help text
    help_key: str | None = None
    choices: tuple = ()
    choice_key: str | None = None     # i18n key prefix of a choice's text: t(choice_key + value)
    min: float | None = None
    max: float | None = None
    max_len: int | None = None        # text: characters; paths: entries
    # UI hints served as-is: step, placeholder / placeholder_key, slider (a score: a slider and its number),
    # text_key (a checkbox's own text), block / block_help (i18n keys: numbers shown together under one label)
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"setting {self.key}: unknown type {self.type!r}")
        if self.type == "choice" and self.default not in self.choices:
            raise ValueError(f"setting {self.key}: default {self.default!r} is not one of its choices")

    def clean(self, value: Any) -> Any:
        """The value to store, or ValueError ("must be ...")."""
        value = _TYPE_CHECKS[self.type](self, value)
        return self.validate(value) if self.validate else value

    def describe(self) -> dict:
        """The schema entry the UI builds its field from (no validator, never a stored value)."""
        out = {"key": self.key, "type": self.type, "default": self.default, "secret": self.secret,
               "group": self.group, "label_key": self.label_key, "help_key": self.help_key}
        for name in ("choices", "choice_key", "min", "max", "max_len"):
            value = getattr(self, name)
            if value not in (None, ()):
                out[name] = list(value) if name == "choices" else value
        return {**out, **self.extra}


SETTINGS: dict[str, Setting] = {}


def register(*settings: Setting) -> None:
    """Add a feature's keys; each key belongs to exactly one feature."""
    for spec in settings:
        known = SETTINGS.get(spec.key)
        if known is not None and known is not spec:
            raise ValueError(f"setting {spec.key} is registered twice")
        SETTINGS[spec.key] = spec


def schema() -> list[dict]:
    return [spec.describe() for spec in SETTINGS.values()]


# --- type checks ------------------------------------------------------------------------------------

def _choice(spec, value):
    if value not in spec.choices:
        raise ValueError(f"must be one of {', '.join(map(str, spec.choices))}")
    return value


def _bool(spec, value):
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _int(spec, value):
    if isinstance(value, bool) or not isinstance(value, int) or not spec.min <= value <= spec.max:
        raise ValueError(f"must be a whole number from {spec.min} to {spec.max}")
    return value


def _number(spec, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not spec.min <= value <= spec.max:
        raise ValueError(f"must be a number from {spec.min} to {spec.max}")
    return float(value)


def _text(spec, value):
    max_len = spec.max_len or 20000
    if not isinstance(value, str) or len(value) > max_len:
        raise ValueError(f"must be text of at most {max_len} characters")
    return value


def _url(spec, value):
    if not isinstance(value, str):
        raise ValueError("must be an address")
    return value


def _path(spec, value):
    """An absolute path, or "" for the built-in default."""
    if not isinstance(value, str):
        raise ValueError("must be a path")
    value = user_path(value)
    if value and not os.path.isabs(value):
        raise ValueError("must be an absolute path (or empty for the default)")
    return value


def _words(spec, value):
    """A list of tags/phrases; a comma-separated string is accepted too (what a text field sends)."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of words")
    return [v.strip() for v in value if v.strip()]


def _paths(spec, value):
    """A list of absolute folders, blanks and repeats dropped."""
    limit = spec.max_len or 100
    if not isinstance(value, list) or len(value) > limit or not all(isinstance(v, str) for v in value):
        raise ValueError(f"must be a list of at most {limit} folder paths")
    out = []
    for raw in value:
        path = user_path(raw)
        if not path:
            continue
        if not os.path.isabs(path):
            raise ValueError(f"must hold absolute paths ('{raw}' is not)")
        if path not in out:
            out.append(path)
    return out


def _object(spec, value):
    return value  # the feature's validator does the work


_TYPE_CHECKS = {"choice": _choice, "bool": _bool, "int": _int, "number": _number, "text": _text,
                "longtext": _text, "url": _url, "path": _path, "words": _words, "paths": _paths, "object": _object}


def http_url(value: str) -> str:
    """Validator: an http(s) address, stored without a trailing slash."""
    if not value.strip().lower().startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// address")
    return value.strip().rstrip("/")


# --- reading and saving -----------------------------------------------------------------------------

MASK_CHAR = "•"


def is_masked(value) -> bool:
    """A masked secret as read_all() shows it: sending it back means "keep the saved one"."""
    return isinstance(value, str) and value.startswith(MASK_CHAR)


def mask_secret(value: str | None) -> str:
    if not value:
        return ""
    value = str(value)
    return MASK_CHAR * 6 + value[-4:] if len(value) > 8 else MASK_CHAR * len(value)


def value(store, key: str):
    """A setting's stored value or its default."""
    return store.get_setting(key, SETTINGS[key].default)


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
        if spec.secret and is_masked(value):
            continue  # the form sent back what GET showed: keep the saved key, never store the mask
        try:
            cleaned[key] = spec.clean(value)
        except ValueError as exc:
            raise ValidationError(f"Setting '{key}' {exc}.", field=key) from None
    for key, value in cleaned.items():
        store.set_setting(key, value)
    return read_all(store)


# --- the app's own keys -----------------------------------------------------------------------------

def _window(value):
    if not isinstance(value, dict):
        raise ValueError("must be an object")
    out = {}
    for key in ("width", "height", "x", "y"):
        if key in value and value[key] is not None:
            if isinstance(value[key], bool) or not isinstance(value[key], (int, float)) \
                    or abs(value[key]) > 1_000_000 or not math.isfinite(value[key]):
                raise ValueError(f"{key} must be a number")
            out[key] = int(value[key])
    if "maximized" in value:
        out["maximized"] = bool(value["maximized"])
    return out


LANGUAGES = ("zh-CN", "en")
THEMES = ("system", "light", "dark")

register(
    Setting("language", "choice", "zh-CN", choices=LANGUAGES, choice_key="lang.", group="general",
            label_key="settings.language"),
    Setting("theme", "choice", "system", choices=THEMES, choice_key="settings.theme.", group="general",
            label_key="settings.theme"),
    Setting("window", "object", {}, _window),          # the desktop window's last size and place
    # The local port of the last launch, taken again when free: the web view's cache and local storage
    # are kept per address (launcher.py).
    Setting("ui_port", "int", 0, min=0, max=65535),
    Setting("first_run_done", "bool", False),
)
