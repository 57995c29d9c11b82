"""Every error code the server can send has a translation in both languages (issue 13, item 6).

The codes are collected from the server's source (`code="..."` arguments and `code = "..."` class
attributes, plus the HTTP fallbacks of server/errors.py), so a new ApiError without an `err.<code>` entry
in ui/src/lib/i18n fails here before it can reach a Chinese screen as an English sentence.
"""

from __future__ import annotations

import re
from pathlib import Path

from server.errors import _HTTP_CODES
from tests.ui.test_i18n_tables import tables  # noqa: F401 - the fixture: the tables as Vite loads them

SERVER = Path(__file__).resolve().parents[2] / "server"
CODE_ARG = re.compile(r"\bcode=\"([a-z0-9_]+)\"")
CODE_ATTR = re.compile(r"^\s+code = \"([a-z0-9_]+)\"", re.M)
CODE_RESPONSE = re.compile(r"error_response\(\s*\"([a-z0-9_]+)\"")
# codes the UI itself makes (lib/api.js) when no server answer arrives
UI_CODES = {"network_error"}


def server_codes() -> set[str]:
    codes = set(_HTTP_CODES.values()) | {"http_error", "internal_error"}
    for path in SERVER.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        codes |= set(CODE_ARG.findall(text)) | set(CODE_ATTR.findall(text)) | set(CODE_RESPONSE.findall(text))
    return codes


def test_the_scan_finds_the_codes_it_should():
    codes = server_codes()
    # one from each way a code is written: an argument, a class attribute, an HTTP fallback
    assert {"dataset_busy", "caption_changed", "method_not_allowed"} <= codes
    assert len(codes) > 100


def test_every_server_error_code_is_translated(tables):  # noqa: F811
    merged = {"en": {}, "zh-CN": {}}
    for table in tables.values():
        for locale in merged:
            merged[locale].update(table.get(locale, {}))
    for locale, keys in merged.items():
        missing = sorted(c for c in server_codes() | UI_CODES if f"err.{c}" not in keys)
        assert not missing, f"{locale}: no err.<code> for {missing}"
    # the Chinese ones are Chinese
    english = sorted(c for c in server_codes() if not re.search(r"[\u4e00-\u9fff]", merged["zh-CN"][f"err.{c}"]))
    assert not english, english
