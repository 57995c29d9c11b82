"""The command line of musubi-tuner's caption_images_by_qwen_vl.py, checked against the CLI contract.

The option table and the strict argparse mirror are the training feature's
(`server/training/cli_spec.py` over the pinned musubi CLI spec), so one spec file describes every
musubi script the app runs. `build_argv` turns {dest: value} into arguments and refuses a line
the script's parser would reject, before anything is launched: a musubi update that renames a
flag shows up as a clear error instead of a traceback from the trainer's environment.
"""

from __future__ import annotations

from ..training import cli_spec
from .base import TaggingError

SCRIPT_NAME = "caption_images_by_qwen_vl"
SCRIPT = f"src/musubi_tuner/{SCRIPT_NAME}.py"


def options() -> dict[str, cli_spec.Option]:
    """The script's options by dest."""
    table = cli_spec.load_spec().get(SCRIPT_NAME)
    if not table:
        raise TaggingError(f"The musubi CLI spec has no {SCRIPT_NAME}.py.", code="musubi_spec_missing")
    return {opt.dest: opt for opt in table.values()}


def build_argv(values: dict) -> list[str]:
    """Script arguments for `values` ({dest: value}; None leaves the script's default)."""
    table = options()
    unknown = sorted(set(values) - set(table))
    if unknown:
        raise TaggingError(f"{SCRIPT_NAME}.py has no option --{unknown[0]} in the musubi-tuner this app "
                           "supports.", code="bad_musubi_option", details={"option": unknown[0]})
    argv: list[str] = []
    for dest, value in values.items():
        if value is None:
            continue
        opt = table[dest]
        flag = max(opt.flags, key=len)  # the full name: musubi's parser allows ambiguous prefixes
        if opt.is_switch:
            if not isinstance(value, bool):
                raise TaggingError(f"--{dest} is a switch (true or false).", code="bad_musubi_option",
                                   details={"option": dest})
            if value:
                argv.append(flag)
        elif isinstance(value, str) and value.startswith("-"):
            argv.append(f"{flag}={value}")  # a separate value starting with '-' would parse as a flag
        else:
            argv += [flag, str(value)]
    _, problems = cli_spec.parse(SCRIPT_NAME, argv)
    if problems:
        raise TaggingError("; ".join(p.message for p in problems), code="bad_musubi_option",
                           details={"option": problems[0].flag.lstrip("-")})
    return argv
