"""One task on several GPUs: the launch options of a multi-process run and how its output is read.

musubi trains on N GPUs as N processes (`accelerate launch --multi_gpu --num_processes N`, which runs
torch's elastic launcher, torchrun). Each process (rank) prints its own logger lines; only rank 0 draws the
tqdm bar and prints `accelerator.print` lines (trainer_base.py: `disable=not accelerator.is_local_main_process`),
but every rank logs `generating sample images at step ...` and its own bucket and model-loading lines.
Without help those lines interleave in one stream with nothing telling the ranks apart.

So the train stage runs with torchrun's `--tee 3 --log_dir <dir>` (accelerate passes both through):
- every rank's stdout and stderr are written to their own files under `<logs>/run-NNN-train-ranks/`
  (torchrun's layout: `<run id>/attempt_0/<rank>/stdout.log` and `stderr.log`), kept with the task;
- the console copy, which goes to the stage log the runner follows, prefixes each line with the rank
  (`[default0]:...`, torchrun's default `[${role_name}${local_rank}]:` with accelerate's role `default`).
  torchrun reads the rank files in text mode, so a tqdm redraw (`\\r`) arrives as a line of its own.
Progress, loss, notices and the accounting read only rank 0's lines (`split`, `rank0_text`); the log
shown to the user keeps every rank's lines.

The port: torchrun's rendezvous listens on `--main_process_port` (accelerate's default 29500 refuses a
second multi-GPU task on the same machine, and `0` makes the static rendezvous hang), so the runner picks
a free one right before it starts the stage (`launch_args`).
"""

from __future__ import annotations

import re
import socket
import sys
from pathlib import Path

from ..errors import ValidationError

# What launch_prefix adds for several GPUs; `--log_dir` and the port come at start (launch_args).
TEE = ["--tee", "3"]
RANK_PREFIX = re.compile(r"^\[default(\d+)\]:")
# torch.distributed prints an uncaught exception of a rank with `[rankN]: ` before each line (seen in the real
# two-process run: `[default0]:[rank0]: RuntimeError: ...`)
EXCEPTION_PREFIX = re.compile(r"^\[rank\d+\]: ?")


def check_platform(gpu_count: int, platform: str | None = None) -> None:
    """Several GPUs only where torchrun works. On Windows PyTorch's wheels are built without libuv, which
    torchrun's rendezvous store asks for ("use_libuv was requested but PyTorch was build without libuv
    support", kohya-ss/musubi-tuner#100, pytorch/pytorch#148283), and torchrun cannot tee a rank's output
    there ("Redirects are currently not supported in Windows or MacOs"): refused before anything starts."""
    if gpu_count > 1 and (platform or sys.platform) == "win32":
        raise ValidationError("One task on several GPUs needs Linux: PyTorch's multi-process launcher does not work "
                              "on Windows. Choose one GPU, or queue one task per GPU.", field="gpus",
                              code="multi_gpu_windows", details={"gpus": gpu_count})


def is_multi(argv: list[str]) -> bool:
    return "--multi_gpu" in argv


def ranks_dir(log_path: Path) -> Path:
    """`run-001-train.log` -> `run-001-train-ranks/` next to it."""
    return log_path.with_name(log_path.stem + "-ranks")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_args(argv: list[str], log_dir: Path, port: int) -> list[str]:
    """`argv` with the rank logs' folder and the rendezvous port inserted among accelerate's options
    (right after `--multi_gpu`, before the script path)."""
    at = argv.index("--multi_gpu") + 1
    return [*argv[:at], "--main_process_port", str(port), "--log_dir", str(log_dir), *argv[at:]]


def split(line: str) -> tuple[int | None, str]:
    """(rank, text) of a console line of a tee'd run; (None, line) for the launcher's own lines."""
    m = RANK_PREFIX.match(line)
    if not m:
        return None, line
    return int(m.group(1)), line[m.end():]


def rank0_text(text: str) -> str:
    """Only rank 0's lines of a multi-process log, without their prefix."""
    out = []
    for line in text.splitlines(keepends=True):
        rank, rest = split(line)
        if rank == 0:
            out.append(rest)
    return "".join(out)


def unprefixed(text: str) -> str:
    """Every line without its rank prefixes: what failed may be any rank's traceback (runner._judge)."""
    return "".join(EXCEPTION_PREFIX.sub("", split(line)[1], count=1) for line in text.splitlines(keepends=True))
