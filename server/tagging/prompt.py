"""Prompt templates: `{trigger}` stands for the dataset's trigger word.

Only `{trigger}` is replaced (no str.format), so braces elsewhere in a prompt are left alone. When
there is no trigger word, every line that mentions `{trigger}` is dropped, so a template can say
"Call the subject {trigger}." without producing "Call the subject ." for datasets that have none.
"""

from __future__ import annotations

PLACEHOLDER = "{trigger}"


def render_prompt(template: str, trigger: str | None) -> str:
    trigger = (trigger or "").strip()
    if trigger:
        return template.replace(PLACEHOLDER, trigger).strip()
    lines = [line for line in template.splitlines() if PLACEHOLDER not in line]
    return "\n".join(lines).strip()
