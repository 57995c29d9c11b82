"""Every refusal code the training and model modules raise has a translated headline in both languages
(ui/src/lib/i18n/training.js `training.err.<code>`, shown by lib/training.js errorText)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.ui.test_i18n_tables import tables  # noqa: F401 - the i18n tables as Vite loads them

ROOT = Path(__file__).resolve().parents[2]
# Codes raised before translated headlines existed: the UI shows the server's message for them.
# New codes must not be added here; give them a training.err entry instead.
UNTRANSLATED_BEFORE = {
    "checkpoint_not_found", "confirm_required", "dataset_not_found", "dataset_trashed", "dataset_type",
    "invalid_command", "model_missing", "model_not_found", "musubi_missing", "nothing_to_resume", "path_not_found",
    "preset_not_found", "task_busy", "task_not_found", "unknown_task_type", "unknown_variant",
}


def raised_codes() -> set[str]:
    codes = set()
    for folder in ("server/training", "server/models"):
        for path in (ROOT / folder).glob("*.py"):
            text = path.read_text(encoding="utf-8")
            codes |= set(re.findall(r'\bcode="([a-z0-9_]+)"', text))
            # dataset_checks.check raises its blocking findings with their own code (preflight.py's are
            # raised as preflight_blocked, with the findings listed).
            if path.name == "dataset_checks.py":
                codes |= set(re.findall(r'Finding\(\s*"([a-z0-9_]+)",\s*"block"', text))
    return codes


def test_new_refusal_codes_are_translated(tables):  # noqa: F811
    table = tables[str(ROOT / "ui" / "src" / "lib" / "i18n" / "training.js")]
    codes = raised_codes() - UNTRANSLATED_BEFORE
    assert {"control_missing", "resume_schedule_unknown", "dit_already_fp8"} <= codes  # the scan sees them
    for lang in ("en", "zh-CN"):
        missing = sorted(c for c in codes if f"training.err.{c}" not in table[lang])
        assert not missing, (lang, missing)


def test_preflight_findings_and_accounting_are_translated(tables):  # noqa: F811
    """Every finding code (dataset_checks.Finding / preflight.py) and accounting difference has a
    `preflight.f.<code>` / `preflight.acc.<code>` text in both languages (ui/src/lib/i18n/preflight.js)."""
    table = tables[str(ROOT / "ui" / "src" / "lib" / "i18n" / "preflight.js")]
    findings, differences = set(), set()
    for name in ("dataset_checks.py", "preflight.py", "accounting.py"):
        text = (ROOT / "server" / "training" / name).read_text(encoding="utf-8")
        findings |= set(re.findall(r'Finding\(\s*"([a-z0-9_]+)"', text))
        differences |= set(re.findall(r'"(accounting_[a-z]+)"', text))
    assert {"file_unreadable", "control_missing", "video_no_window"} <= findings and len(differences) == 4
    for lang in ("en", "zh-CN"):
        wanted = {f"preflight.f.{c}" for c in findings} | {f"preflight.acc.{c}" for c in differences}
        missing = sorted(wanted - set(table[lang]))
        assert not missing, (lang, missing)
