"""Windows' 260-character path limit, and whether a folder is too deep to set the trainer up in.

Without the LongPathsEnabled policy (off by default before Windows 11 setups that turn it on), any
path over MAX_PATH fails, and pip does not say why: `pip install torch` dies half-way with
"No such file or directory" on one of torch's deepest headers. Those files sit about
DEEPEST_BELOW_TRAINER characters below the musubi-tuner folder (`.venv\\Lib\\site-packages\\` is 24,
torch's longest include paths about 130 more, plus pip's own temporary names), so a musubi-tuner folder
longer than MAX_PATH - DEEPEST_BELOW_TRAINER (100 characters, e.g. the executable unpacked several
folders deep under a long user name) cannot hold the environment. The settings page warns before
setup; the user can move the folder, choose a shorter one, or turn long paths on.
"""

from __future__ import annotations

import sys
from pathlib import Path

MAX_PATH = 260
DEEPEST_BELOW_TRAINER = 160
KEY = r"SYSTEM\CurrentControlSet\Control\FileSystem"
VALUE = "LongPathsEnabled"


def long_paths_enabled(platform: str | None = None) -> bool:
    """True where paths over 260 characters work: every OS but Windows, or Windows with the policy on."""
    if (platform or sys.platform) != "win32":
        return True
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, KEY) as key:
            value, _kind = winreg.QueryValueEx(key, VALUE)
    except OSError:  # no such value: the policy was never turned on
        return False
    return value == 1


def trainer_dir_problems(musubi_dir: Path, *, enabled: bool | None = None) -> list[dict]:
    """A warning (detect.py's problem shape) when the trainer folder is too deep for its environment."""
    if enabled is None:
        enabled = long_paths_enabled()
    limit = MAX_PATH - DEEPEST_BELOW_TRAINER
    length = len(str(musubi_dir))
    if enabled or length <= limit:
        return []
    return [{
        "code": "long_paths_disabled", "severity": "warning", "field": "musubi_dir",
        "message": f"The musubi-tuner folder path is {length} characters long and Windows long paths are off: "
                   f"installing PyTorch there will fail (its files end up over {MAX_PATH} characters).",
        "action": f"Choose a musubi-tuner folder with a path of at most {limit} characters (for example "
                  f"C:\\LoRA\\musubi-tuner), or turn on long paths (as administrator: set {VALUE} to 1 under "
                  f"HKLM\\{KEY}, or the group policy \"Enable Win32 long paths\") and restart.",
        "length": length, "limit": limit, "details": {"length": length, "limit": limit, "max": MAX_PATH},
        "action_code": "long_paths_disabled",
    }]
