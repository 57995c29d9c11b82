"""Every UI string exists in both languages: the i18n tables are loaded with Node exactly as Vite does."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "ui" / "src" / "lib" / "i18n"
SRC = ROOT / "ui" / "src"

LOADER = """
const files = process.argv.slice(1);
const out = {};
for (const f of files) out[f] = (await import('file://' + f)).default;
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def tables():
    node = shutil.which("node")
    if not node:
        pytest.fail("node is required")
    files = sorted(str(p) for p in I18N.glob("*.js") if not p.name.endswith(".svelte.js"))
    res = subprocess.run([node, "--input-type=module", "-e", LOADER, *files], capture_output=True, text=True,
                         check=True)
    return json.loads(res.stdout)


def merged(tables) -> dict:
    """Every file's keys in one table per language, as the UI looks them up."""
    out = {"en": {}, "zh-CN": {}}
    for table in tables.values():
        for locale in out:
            out[locale].update(table.get(locale, {}))
    return out


def test_both_languages_have_the_same_keys(tables):
    for file, table in tables.items():
        en, zh = set(table.get("en", {})), set(table.get("zh-CN", {}))
        assert en - zh == set(), f"{file}: missing in zh-CN: {sorted(en - zh)}"
        assert zh - en == set(), f"{file}: missing in en: {sorted(zh - en)}"


def test_no_key_is_defined_twice(tables):
    seen = {}
    for file, table in tables.items():
        for key in table.get("en", {}):
            assert key not in seen, f"{key} defined in {seen.get(key)} and {file}"
            seen[key] = file


def test_every_literal_key_used_in_the_ui_exists(tables):
    known = set()
    for table in tables.values():
        known |= set(table.get("en", {}))
    used = set()
    for path in SRC.rglob("*"):
        if path.suffix in (".svelte", ".js") and "i18n" not in path.parts:
            used |= set(re.findall(r"\bt\(\s*'([A-Za-z0-9_.-]+)'", path.read_text(encoding="utf-8")))
    # t('lang.' + code) style: a prefix must start at least one real key
    prefixes = {k for k in used if k.endswith(".")}
    missing = sorted(used - prefixes - known)
    missing += sorted(p for p in prefixes if not any(k.startswith(p) for k in known))
    assert not missing, f"keys used but not in the tables: {missing}"
