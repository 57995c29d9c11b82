"""Every job progress message the server can send (server/jobs/messages.py) is translated in both languages,
with the same parameters, so a running job never shows an English line on a Chinese screen (issue 13,
item 3). ctx.progress refuses a code missing from that table, so the table is the whole list."""

from __future__ import annotations

import re

from server.jobs.failures import FAILURES
from server.jobs.messages import MESSAGES
from tests.ui.test_i18n_tables import merged, tables  # noqa: F401 - the fixture: the tables as Vite loads them

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_job_message_code_is_translated_with_its_parameters(tables):  # noqa: F811
    keys = merged(tables)
    for code, english in MESSAGES.items():
        params = set(PLACEHOLDER.findall(english))
        for locale in keys:
            text = keys[locale].get(f"job.msg.{code}")
            assert text is not None, f"{locale}: no job.msg.{code}"
            assert set(PLACEHOLDER.findall(text)) == params, (locale, code, text, english)
        assert re.search(r"[\u4e00-\u9fff]", keys["zh-CN"][f"job.msg.{code}"]), code
    # and no translation for a code the server no longer sends
    stale = sorted(k for k in keys["en"] if k.startswith("job.msg.") and k[len("job.msg."):] not in MESSAGES)
    assert not stale, stale


def test_every_job_failure_code_is_translated_with_its_parameters(tables):  # noqa: F811
    """server/jobs/failures.py: `{error}` (the raw text) is shown as a detail under the translated line, so the
    translations use every other parameter and never that one."""
    keys = merged(tables)
    for code, english in FAILURES.items():
        params = set(PLACEHOLDER.findall(english)) - {"error"}
        for locale in keys:
            text = keys[locale].get(f"job.err.{code}")
            assert text is not None, f"{locale}: no job.err.{code}"
            assert set(PLACEHOLDER.findall(text)) == params, (locale, code, text, english)
        assert re.search(r"[\u4e00-\u9fff]", keys["zh-CN"][f"job.err.{code}"]), code
    stale = sorted(k for k in keys["en"] if k.startswith("job.err.") and k[len("job.err."):] not in FAILURES)
    assert not stale, stale
