"""Every text the settings schema names (GET /api/settings/schema) exists in both languages: the label and
help of each shown key, the text of each choice (SettingField.svelte shows t(choice_key + choice)) and of each
UI hint that names an i18n key."""

from __future__ import annotations

from server import settings
from server.api import settings as _settings_api  # noqa: F401 - loads every feature's keys, as the app does
from tests.ui.test_i18n_tables import tables  # noqa: F401 - the fixture: the tables as Vite loads them


def test_every_key_of_the_settings_schema_is_translated(tables):  # noqa: F811
    merged = {"en": {}, "zh-CN": {}}
    for table in tables.values():
        for locale in merged:
            merged[locale].update(table.get(locale, {}))
    needed = set()
    for s in settings.schema():
        if s["group"] and s["type"] != "object":  # shown by a generic field: it needs its texts
            assert s["label_key"], s["key"]
        # and the texts its UI hints name: a placeholder, a checkbox's text, a block of numbers' label and help
        needed |= {k for k in (s["label_key"], s["help_key"], s.get("placeholder_key"), s.get("text_key"),
                               s.get("block"), s.get("block_help")) if k}
        if s.get("choice_key"):
            needed |= {s["choice_key"] + str(c) for c in s["choices"]}
    assert len(needed) > 30
    for locale, keys in merged.items():
        missing = sorted(needed - set(keys))
        assert not missing, f"{locale}: {missing}"
