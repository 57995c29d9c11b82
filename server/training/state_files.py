"""Is a saved state (or checkpoint) whole? What accelerate writes, and how a cut write shows.

musubi saves a state with `accelerator.save_state(<name>-state/)` (its hooks keep only the LoRA), which
writes, in this order and each straight to its final name (no temporary file, no rename):

    model.safetensors                   the LoRA's trained weights
    optimizer.bin, scheduler.bin        torch.save archives (zip); scaler.pt too with fp16 mixed precision
    random_states_0.pkl                 the random generators, the last file written (musubi saves states
                                        from the main process only, so there is one whatever the GPUs)

A stop (or a crash, a full disk) during that leaves a folder with the first files only, or a last file cut
short. Loading such a folder goes wrong late and in different ways: a missing or truncated model/optimizer
file raises in `load_state` after the models have loaded, while a missing random-states file is only logged
("Could not load random states") and the run continues with other random numbers than the saved run. So a
state counts as whole when every file is there and each is readable to its end: a safetensors header whose
tensors end where the file ends, a zip archive whose central directory (written last) is there.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..models.safetensors_header import SafetensorsError, read_header


def safetensors_problem(path: Path) -> str | None:
    """Why `path` is not a whole .safetensors file (its header read, its tensors' bytes all there), or None."""
    try:
        read_header(path)
    except SafetensorsError as exc:
        return "missing" if exc.code == "not_found" else exc.code.replace("_", " ")
    return None


def archive_problem(path: Path) -> str | None:
    """Why `path` is not a whole torch.save archive (a zip, whose directory is written last), or None."""
    if not path.is_file():
        return "missing"
    try:
        with zipfile.ZipFile(path) as z:
            z.namelist()
    except (OSError, zipfile.BadZipFile) as exc:
        return f"cut short ({exc.__class__.__name__})"
    return None


STATE_ARCHIVES = ("optimizer.bin", "scheduler.bin", "random_states_0.pkl")


def state_problems(state_dir: Path) -> dict[str, str]:
    """{file name: what is wrong} for a state folder musubi saved; empty when it is whole."""
    problems = {}
    model = state_dir / "model.safetensors"
    if not model.exists() and (state_dir / "pytorch_model.bin").exists():   # saved without safetensors
        model = state_dir / "pytorch_model.bin"
        problem = archive_problem(model)
    else:
        problem = safetensors_problem(model)
    if problem:
        problems[model.name] = problem
    for name in STATE_ARCHIVES:
        if problem := archive_problem(state_dir / name):
            problems[name] = problem
    return problems


def skipped_warnings(resume: dict | None) -> list[str]:
    """What a resume passed over (planning.resume_point's `skipped`), a line each: kept in the run record's
    warnings and written at the top of the training log, where the user reads what the run did."""
    return [f"{s['name']} is incomplete (" + ", ".join(f"{f} {p}" for f, p in s["problems"].items()) +
            f"): resuming from {Path(resume['path']).name} instead." for s in (resume or {}).get("skipped", [])]
