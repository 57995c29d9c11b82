"""Stand-in for `python -m accelerate.commands.launch` (tests only).

Accepts the launcher options the app emits, prints accelerate's warning block (taken from the real
logs), then runs `<script> <args>` as a child process with the same interpreter, as accelerate's
simple_launcher does. Like it, a failed child ends the launcher with its own traceback AFTER the
trainer's: `raise subprocess.CalledProcessError(returncode=process.returncode, cmd=cmd)` (accelerate
1.x, commands/launch.py) - "returned non-zero exit status 1", or "died with <Signals.SIGKILL: 9>"
when the trainer was killed - and the launcher itself exits with 1.
"""

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src" / "musubi_tuner"))
import real_output  # noqa: E402


def simple_launcher(args) -> None:
    cmd = [sys.executable, args.script, *args.script_args]
    process = subprocess.Popen(cmd)
    process.wait()
    if process.returncode != 0:
        raise subprocess.CalledProcessError(returncode=process.returncode, cmd=cmd)


def tee_launcher(args) -> None:
    """`--multi_gpu --tee 3` as torchrun does it for rank 0: the script's output to the rank's own file and to
    the console with the `[default0]:` prefix, read in text mode so each tqdm redraw is a line of its own.
    (One rank only: the stand-in trainer has no second process to share the work with.)"""
    rank_dir = Path(args.log_dir) / "standin_0" / "attempt_0" / "0"
    rank_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, args.script, *args.script_args]
    with open(rank_dir / "stdout.log", "w", encoding="utf-8") as own:
        process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   encoding="utf-8", errors="replace")
        for line in process.stdout:
            own.write(line)
            own.flush()
            sys.stdout.write("[default0]:" + line)
            sys.stdout.flush()
        process.wait()
    if process.returncode != 0:
        raise subprocess.CalledProcessError(returncode=process.returncode, cmd=cmd)


def main() -> None:
    parser = argparse.ArgumentParser(prog="accelerate launch", allow_abbrev=False)
    parser.add_argument("--num_cpu_threads_per_process", type=int, required=True)
    parser.add_argument("--mixed_precision", choices=["no", "fp16", "bf16"], required=True)
    parser.add_argument("--multi_gpu", action="store_true")
    parser.add_argument("--num_processes", type=int, default=1)
    parser.add_argument("--gpu_ids")
    parser.add_argument("--tee")
    parser.add_argument("--main_process_port", type=int)
    parser.add_argument("--log_dir")
    parser.add_argument("script")
    parser.add_argument("script_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    sys.stderr.write("\n".join(real_output.ACCELERATE_WARNING) + "\n")
    sys.stderr.flush()
    if args.multi_gpu and args.tee:
        tee_launcher(args)
    else:
        simple_launcher(args)


if __name__ == "__main__":
    main()
