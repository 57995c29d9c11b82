"""Why a job failed: a code and its parameters, which the UI translates (`job.err.<code>` in
ui/src/lib/i18n/jobs.js), and the English sentence made from them here, kept as the job's `error`.

A job raises `JobError("convert_failed", {"error": last_line})` at a failure point it knows; the job manager
stores `error_code` / `error_params` with the job. An ApiError raised inside a job keeps its own code and
details (the UI translates those as `err.<code>`); any other exception is `unexpected`.

The parameter `error` is always the raw technical text (an OS error, a tool's last line): the UI shows it as
a detail under the translated sentence, never inside it, so the translations do not use it.
tests/ui/test_job_messages.py checks every code here has a translation with the same parameters.
"""

from __future__ import annotations

FAILURES = {
    # server/jobs: an exception no failure point named (the UI says the job failed, the text is the detail)
    "unexpected": "{error}",
    # server/tagging/job.py: every item failed
    "tag_all_failed": "All {failed} items failed; no caption was written.",
    # server/training/convert.py: convert_lora.py exited with an error
    "convert_failed": "The conversion failed (exit code {exit_code}): {error}",
    # server/datasets/importer.py: the folder or zip to import could not be read when the job started
    "import_source_unreadable": "The files to import could not be read: {error}",
    # server/runtime/setup.py: a step of setup / update / repair
    "rt_start_failed": "{what} could not start: {error}",
    "rt_step_failed": "{what} failed (exit code {exit_code}); see the log above.",
    "rt_download_failed": "Downloading musubi-tuner failed: {error}",
    "rt_archive_not_musubi": "The archive does not contain musubi-tuner (no pyproject.toml / src/musubi_tuner).",
    "rt_env_broken": "The new environment does not run: {error}",
    "rt_torch_missing": "PyTorch did not install.",
    "rt_musubi_missing": "musubi-tuner is not importable in the new environment.",
}


def text(code: str, params: dict | None = None) -> str:
    """The English sentence of failure `code` (KeyError for an unknown code)."""
    return FAILURES[code].format(**(params or {}))


class JobError(Exception):
    """A job failed at a point it knows: `code` (FAILURES) with `params`, the English as its text."""

    def __init__(self, code: str, params: dict | None = None):
        self.code = code
        self.params = {k: v if isinstance(v, (int, float)) else str(v) for k, v in (params or {}).items()}
        super().__init__(text(code, self.params))
