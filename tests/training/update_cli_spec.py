"""Write the CLI contract (tests/fixtures/musubi-cli-spec.json and its copy server/training/data/) from the real
parsers of the pinned musubi-tuner, never by hand.

    .venv/bin/python -m tests.training.update_cli_spec

Asks musubi_probe.py ("specs"), run with the real-trainer environment's Python (test_real_musubi.py finds it),
for every script the contract already lists and every script the task table uses, and writes them in the
contract's format (options only, no -h/--help). ../shared/musubi/cli-spec.json lacked the scripts of some types
(HiDream-O1, Ideogram 4); test_real_musubi.py's contract test then holds every entry to the real parsers.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from server.training import cli_spec, task_types

from .test_real_musubi import musubi_ready, probe

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "musubi-cli-spec.json"


def scripts_to_write(current: dict) -> list[str]:
    """The contract's scripts in their order (a small diff), then those of the table it lacks."""
    listed = [name.removeprefix(cli_spec.SCRIPT_PREFIX).removesuffix(".py") for name in current["scripts"]]
    used = {s for t in task_types.TASK_TYPES.values() for s in t.scripts.values()}
    return listed + sorted(used - set(listed))


def build(current: dict) -> dict:
    scripts = scripts_to_write(current)
    real = probe({"specs": scripts})["specs"]
    commit = musubi_ready().get("commit")
    if commit and commit != current.get("musubi_tuner_commit"):
        raise SystemExit(f"The trainer environment is musubi-tuner {commit}, the contract {current['musubi_tuner_commit']}: "
                         "move the pin (and musubi_tuner_version) first.")
    return {"musubi_tuner_version": current["musubi_tuner_version"], "musubi_tuner_commit": current["musubi_tuner_commit"],
            "scripts": {f"{cli_spec.SCRIPT_PREFIX}{s}.py": [o for o in real[s] if o["flags"] != ["-h", "--help"]]
                        for s in scripts}}


def main() -> None:
    current = json.loads(FIXTURE.read_text(encoding="utf-8"))
    text = json.dumps(build(current), indent=1, ensure_ascii=False)
    for path in (FIXTURE, cli_spec.SPEC_PATH):
        path.write_text(text, encoding="utf-8")
    print(f"wrote {FIXTURE} and {cli_spec.SPEC_PATH}", file=sys.stderr)


if __name__ == "__main__":
    main()
