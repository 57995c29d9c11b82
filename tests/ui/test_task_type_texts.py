"""Every text the task-type table names (GET /api/task-types) exists in both languages: labels and help of
types, fields, model files, variant names, and the labels of choice fields that are translated per choice."""

from __future__ import annotations

from server.training import catalog
from tests.ui.test_i18n_tables import tables  # noqa: F401 - the fixture: the tables as Vite loads them

# Choice fields whose choices the form labels through training.choices.<field>.<choice> (FieldInput.svelte).
TRANSLATED_CHOICES = ("experts", "network_type")


def test_every_key_of_the_task_type_table_is_translated(tables):  # noqa: F811
    merged = {"en": {}, "zh-CN": {}}
    for table in tables.values():
        for locale in merged:
            merged[locale].update(table.get(locale, {}))
    needed = set()
    for ttype in catalog.public_table():
        needed |= {ttype["label_key"], ttype["help_key"]}
        needed |= {v["label_key"] for v in ttype["variants"]}
        for m in ttype["models"]:
            needed |= {m["label_key"], m["help_key"]}
        for f in ttype["fields"]:
            needed |= {f["label_key"], f["help_key"]}
            if f["key"] in TRANSLATED_CHOICES:
                needed |= {f"training.choices.{f['key']}.{c}" for c in f["choices"]}
    for locale, keys in merged.items():
        missing = sorted(needed - set(keys))
        assert not missing, f"{locale}: {missing}"
