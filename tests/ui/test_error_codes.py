"""Every error code the server can send has a translation in both languages (issue 13, item 6).

The codes are collected from the server's source (`code="..."` arguments and `code = "..."` class
attributes, plus the HTTP fallbacks of server/errors.py), so a new ApiError without an `err.<code>` entry
in ui/src/lib/i18n fails here before it can reach a Chinese screen as an English sentence.
"""

from __future__ import annotations

import re
from pathlib import Path

from server.errors import _HTTP_CODES
from server.jobs.failures import FAILURES
from tests.ui.test_i18n_tables import tables  # noqa: F401 - the fixture: the tables as Vite loads them

SERVER = Path(__file__).resolve().parents[2] / "server"
CODE_ARG = re.compile(r"\bcode=\"([a-z0-9_]+)\"")
CODE_ATTR = re.compile(r"^\s+code = \"([a-z0-9_]+)\"", re.M)
CODE_RESPONSE = re.compile(r"error_response\(\s*\"([a-z0-9_]+)\"")
# codes the UI itself makes (lib/api.js) when no server answer arrives
UI_CODES = {"network_error"}
UI = SERVER.parent / "ui" / "src"
# other ways a code reaches the UI as err.<code>: a result's field, a default argument, a fallback, a finding
OTHER_WAYS = [re.compile(r"\"code\": \"([a-z0-9_]+)\""), re.compile(r"\bcode: str = \"([a-z0-9_]+)\""),
              re.compile(r"\bcode=[^,\n)]* or \"([a-z0-9_]+)\""), re.compile(r"\bFinding\(\s*\"([a-z0-9_]+)\"")]
UI_MADE = re.compile(r"\bcode: '([a-z0-9_]+)'")


def server_codes() -> set[str]:
    codes = set(_HTTP_CODES.values()) | {"http_error", "internal_error"}
    for path in SERVER.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        codes |= set(CODE_ARG.findall(text)) | set(CODE_ATTR.findall(text)) | set(CODE_RESPONSE.findall(text))
    # a job's failure codes (server/jobs/failures.py) are job.err.<code>, not error codes
    return codes - set(FAILURES)


def sent_codes() -> set[str]:
    """Every code that can reach errorText: the error codes, the others the server writes, the UI's own."""
    codes = server_codes() | UI_CODES
    for path in SERVER.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in OTHER_WAYS:
            codes |= set(pattern.findall(text))
    for path in [*UI.rglob("*.js"), *UI.rglob("*.svelte")]:
        codes |= set(UI_MADE.findall(path.read_text(encoding="utf-8")))
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


def test_no_translation_for_a_code_nothing_sends(tables):  # noqa: F811
    """An err.<code> no server module, result or UI code can send any more is dead text (err.no_cuda_driver was one:
    the driver choice stopped raising it)."""
    keys = {k for table in tables.values() for locale in ("en", "zh-CN") for k in table.get(locale, {})}
    sent = sent_codes()
    stale = sorted(k for k in keys if k.startswith("err.") and k[len("err."):] not in sent)
    assert not stale, stale
