"""Where musubi-tuner lives and how its scripts are launched.

Settings `musubi_dir` and `musubi_python` ("" = default: `<program>/musubi-tuner` and the python of
its `.venv`). Scripts are run by path, `<musubi_dir>/src/musubi_tuner/<name>.py`, with the musubi
environment's own interpreter. Training goes through accelerate as
`<python> -m accelerate.commands.launch ...`: unlike the `accelerate` console script this needs no
platform-specific path (bin/ vs Scripts\\accelerate.exe) and runs whatever accelerate that
interpreter has installed.

Stages run with the musubi checkout as working directory (musubi's docs assume it).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..errors import ValidationError
from ..paths import program_dir
from .ranks import TEE

LAUNCH_MODULE = "accelerate.commands.launch"


def default_python(musubi_dir: Path) -> Path:
    venv = musubi_dir / ".venv"
    return venv / "Scripts" / "python.exe" if sys.platform == "win32" else venv / "bin" / "python"


class EnvProblem(NamedTuple):
    """Something that stops a run from starting: the setting to fix, the English sentence, and the trainer
    environment's problem code with its details, which the UI translates (rt.detail.<code>)."""
    setting: str
    message: str
    code: str
    details: dict


@dataclass(frozen=True)
class MusubiEnv:
    musubi_dir: Path
    python: Path
    # From the settings page's last check of this environment (server/runtime/detect.py) and a running
    # setup job: problems that also stop a start.
    blocking: tuple[EnvProblem, ...] = ()

    def script(self, name: str) -> Path:
        return self.musubi_dir / "src" / "musubi_tuner" / f"{name}.py"

    def launch_prefix(self, mixed_precision: str, gpu_count: int) -> list[str]:
        """`accelerate launch` with its own options; the script path and its args follow.
        Several GPUs: one process each, every rank's output tee'd to its own files (ranks.py; the
        rank logs' folder and the port are added when the stage starts, ranks.launch_args)."""
        argv = [str(self.python), "-m", LAUNCH_MODULE, "--num_cpu_threads_per_process", "1"]
        if gpu_count > 1:
            argv += ["--multi_gpu", "--num_processes", str(gpu_count), *TEE]
        return argv + ["--mixed_precision", mixed_precision]

    def coded_problems(self) -> list[EnvProblem]:
        """Anything that stops a run from starting."""
        out = []
        if not (self.musubi_dir / "src" / "musubi_tuner").is_dir():
            out.append(EnvProblem("musubi_dir", f"No musubi-tuner checkout at {self.musubi_dir} "
                                                "(expected src/musubi_tuner inside).", "musubi_missing",
                                  {"path": str(self.musubi_dir)}))
        if not self.python.is_file():
            out.append(EnvProblem("musubi_python", f"The musubi-tuner Python interpreter {self.python} does not exist.",
                                  "python_missing", {"path": str(self.python)}))
        return out + [b for b in self.blocking if b not in out]

    def problems(self) -> list[tuple[str, str]]:
        """(setting, message) for anything that stops a run from starting."""
        return [(p.setting, p.message) for p in self.coded_problems()]

    def refuse_start(self) -> None:
        """Raise for the first problem: no checkout or interpreter is 422 `musubi_missing`; a problem the last
        check of this environment found (or a setup job running) is `trainer_env_problem`, with the problem's
        code as details.problem and its details, so the UI says which in the user's language."""
        for p in self.coded_problems():
            if p.code in ("musubi_missing", "python_missing"):
                raise ValidationError(p.message, field=p.setting, code="musubi_missing", details=p.details)
            raise ValidationError(p.message, field=p.setting, code="trainer_env_problem",
                                  details={**p.details, "problem": p.code})


def from_store(store) -> MusubiEnv:
    musubi_dir = store.get_setting("musubi_dir", "") or ""
    python = store.get_setting("musubi_python", "") or ""
    base = Path(musubi_dir) if musubi_dir else program_dir() / "musubi-tuner"
    python = Path(python) if python else default_python(base)
    return MusubiEnv(musubi_dir=base, python=python, blocking=_runtime_blocking(store, python))


def _runtime_blocking(store, python: Path) -> tuple[tuple[str, str], ...]:
    """Problems the runtime check found (server/runtime): a setup/update/repair job rewriting the
    environment right now, or the last probe of this very interpreter (no torch, CPU-only torch, CUDA
    not available, no accelerate...). Reads two rows; the probe itself only runs from the settings page."""
    out = []
    try:
        from ..runtime.detect import active_setup_job  # runtime reads this module: imported late

        busy = active_setup_job(store)
        verdict = store.get_setting("_runtime_probe", None)
    except Exception:  # noqa: BLE001 - a store without these tables has nothing to say
        return ()
    if busy:
        out.append(EnvProblem("musubi_dir", "The trainer environment is being set up or updated; wait for that job "
                                            "to finish.", "setup_running", {}))
    if verdict and verdict.get("python_path") == str(python):
        for item in verdict.get("blocking") or []:
            out.append(EnvProblem("musubi_python", f"{item['message']} (Settings > Trainer environment)", item["code"],
                                  dict(item.get("details") or {})))
    return tuple(out)


def stage_env(gpus: list[int]) -> dict[str, str]:
    """Variables every stage gets on top of the app's environment.

    PYTHONUNBUFFERED makes progress reach the log as it happens; UTF-8 because musubi prints
    Japanese text, which a Windows console code page would turn into a UnicodeEncodeError.
    """
    return {"CUDA_VISIBLE_DEVICES": ",".join(str(g) for g in gpus), "PYTHONUNBUFFERED": "1",
            "PYTHONIOENCODING": "utf-8", "PYTHONUTF8": "1"}


def full_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env
