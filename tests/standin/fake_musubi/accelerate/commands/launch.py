"""Stand-in for `python -m accelerate.commands.launch` (tests only).

Accepts the launcher options the app emits, then runs `<script> <args>` as a child process with
the same interpreter and exits with the child's code - the real launcher also spawns a child,
which is why the app must stop whole process trees.
"""

import argparse
import subprocess
import sys


def main() -> int:
    parser = argparse.ArgumentParser(prog="accelerate launch", allow_abbrev=False)
    parser.add_argument("--num_cpu_threads_per_process", type=int, required=True)
    parser.add_argument("--mixed_precision", choices=["no", "fp16", "bf16"], required=True)
    parser.add_argument("--multi_gpu", action="store_true")
    parser.add_argument("--num_processes", type=int, default=1)
    parser.add_argument("--gpu_ids")
    parser.add_argument("script")
    parser.add_argument("script_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    print("The following values were not passed to `accelerate launch` and had defaults used instead:\n"
          "\t`--num_machines` was set to a value of `1`\n\t`--dynamo_backend` was set to a value of `'no'`",
          file=sys.stderr, flush=True)
    child = subprocess.Popen([sys.executable, args.script, *args.script_args])
    return child.wait()


if __name__ == "__main__":
    sys.exit(main())
