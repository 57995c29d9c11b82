"""What a job says it is doing: a code and its parameters, which the UI translates (`job.msg.<code>` in
ui/src/lib/i18n/jobs.js), and the English sentence made from them here, kept as the job's `message`: what
logs, scripts and a UI that does not know the code show.

A job reports `ctx.progress(done, total, message_code="import_file", params={"file": ...})`; a code missing from
this table is a programming error (KeyError), so the table lists every progress message the server sends
and tests/ui/test_job_messages.py checks each has a translation with the same parameters.
"""

from __future__ import annotations

MESSAGES = {
    # server/jobs: the app stopped under a running job
    "interrupted": "The app stopped while this job was running.",
    "done": "Done",
    # server/datasets
    "import_start": "Importing",
    "import_file": "Importing {file}",
    "thumbnails": "Generating thumbnails",
    # server/training/convert.py
    "convert_start": "Converting {file}",
    "convert_done": "Converted",
    # server/tagging: a backend getting ready, its model download, the run's rate
    "tag_preparing": "Preparing {backend}…",
    "tag_downloading": "Downloading {file}: {pct}",
    "tag_loading": "Loading {backend}…",
    "tag_testing": "Testing {backend}…",
    "tag_test_passed": "Test passed.",
    "tag_test_failed": "Test failed.",
    "tag_rate": "{done}/{total} · {rate} items/s",
    "tag_rate_eta": "{done}/{total} · {rate} items/s · {eta_s} s left",  # the UI writes eta_s as a duration
    # server/runtime/setup.py: the steps of setup / update / repair
    "rt_download": "Download musubi-tuner",
    "rt_fetch": "Fetch musubi-tuner",
    "rt_unpack": "Unpack it",
    "rt_checkout": "Switch to the checked version",
    "rt_move": "Move it into place",
    "rt_venv": "Create the Python environment",
    "rt_torch": "Install PyTorch ({build})",
    "rt_musubi": "Install musubi-tuner",
    "rt_probe": "Check the environment",
    "rt_swap": "Put the new environment in place",
}


def text(message_code: str, params: dict | None = None) -> str:
    """The English sentence of `message_code` (KeyError for an unknown code)."""
    return MESSAGES[message_code].format(**(params or {}))
