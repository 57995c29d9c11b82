"""Named points where a kill -9 test can freeze the app, so it kills it at a known place.

    LORA_WORKBENCH_TEST_PAUSE="caption_written:3:/tmp/marker"

makes the 3rd pass through `reached("caption_written")` create the marker file and block that
thread for good; the test waits for the file, then kills the process. Waiting on a file instead of
sleeping makes the kill point exact on a machine of any speed. Unset (as for every user), a call
is one dict lookup.

Points: step_opened (a caption step is journaled, no file written yet), caption_written (after each
caption file of a journaled change), import_partial (half of an imported image is written under its
name), import_temp (a streamed media file is copied to its temp name, not yet renamed), import_placed
(after each imported media file, before its caption and index row).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

ENV = "LORA_WORKBENCH_TEST_PAUSE"
_counts: dict[str, int] = {}
_lock = threading.Lock()


def _spec() -> tuple[str, int, str] | None:
    raw = os.environ.get(ENV)
    if not raw:
        return None
    point, n, marker = raw.split(":", 2)
    return point, int(n), marker


def reached(point: str) -> None:
    spec = _spec()
    if spec is None or spec[0] != point:
        return
    with _lock:
        _counts[point] = _counts.get(point, 0) + 1
        hit = _counts[point] == spec[1]
    if hit:
        Path(spec[2]).write_text(point, encoding="utf-8")
        threading.Event().wait()  # until the test kills the process
