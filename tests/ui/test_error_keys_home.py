"""Server error codes are translated in one table: every `err.*` key lives in ui/src/lib/i18n/errors.js."""

from __future__ import annotations

from tests.ui.test_i18n_tables import tables  # noqa: F401 - the fixture that loads the tables with Node


def test_every_error_key_is_in_errors_js(tables):  # noqa: F811
    elsewhere = {f"{file.rsplit('/', 1)[-1]}: {key}" for file, table in tables.items() if not file.endswith("/errors.js")
                 for lang in table.values() for key in lang if key.startswith("err.")}
    assert elsewhere == set()
