"""How the app starts every child process (trainers, pip, probes, the file manager).

One place, because Windows needs two things from each launch and forgetting either is a visible bug:
- CREATE_NO_WINDOW: the app ships without a console, so a console program it starts would open its
  own console window (one flash per pip call; a console for a training the user could close by
  mistake). With it the child gets a hidden console that its own children (pip's compilers, musubi's
  dataloader workers) share, so none of them flashes a window either.
- CREATE_NEW_PROCESS_GROUP: a Ctrl+C / Ctrl+Break sent to the app's group (from `--console`) does not
  reach the child; a training must survive the app and is re-attached on the next start.
On POSIX the same separation is a new session: the terminal's Ctrl+C and hang-up don't reach it.
Stopping is always explicit and covers the whole tree (server/training/proctree.py).
"""

from __future__ import annotations

import subprocess
import sys

# Values from the Windows SDK (winbase.h); subprocess only defines them on Windows.
CREATE_NEW_PROCESS_GROUP = 0x00000200
CREATE_NO_WINDOW = 0x08000000


def popen_flags(platform: str | None = None) -> dict:
    """Keyword arguments for subprocess.Popen / run: `subprocess.Popen(argv, ..., **popen_flags())`."""
    if (platform or sys.platform) == "win32":
        return {"creationflags": CREATE_NO_WINDOW | CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


if sys.platform == "win32":  # the SDK values above must be the ones Python knows
    assert subprocess.CREATE_NO_WINDOW == CREATE_NO_WINDOW
    assert subprocess.CREATE_NEW_PROCESS_GROUP == CREATE_NEW_PROCESS_GROUP
