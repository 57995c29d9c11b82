"""What real musubi-tuner prints, taken from the real runs in tests/fixtures/musubi-real-output/.

The stand-in replays these lines instead of strings written from memory: fixed lines are looked
up in the real logs (a KeyError here means the fixtures changed, not that a test should pass), and
variable ones are the real line with its number or path swapped. Progress bars are drawn by
`Bar`, which follows tqdm's own format_meter for the two kinds musubi shows (with a total, and a
count over a generator); tests/training/test_parsing.py checks that it redraws every bar of the
real logs byte for byte.
"""

from __future__ import annotations

import re
import sys
import time
from functools import lru_cache
from pathlib import Path

REAL = Path(__file__).resolve().parents[4] / "fixtures" / "musubi-real-output"


@lru_cache(maxsize=None)
def log_lines(name: str) -> list[str]:
    text = (REAL / name).read_text(encoding="utf-8")
    return [part for part in re.split(r"\r|\n", text)]


def line(name: str, pattern: str) -> str:
    """The first line of a real log that matches `pattern` (searched, not anchored)."""
    for candidate in log_lines(name):
        if re.search(pattern, candidate):
            return candidate
    raise KeyError(f"no line matching {pattern!r} in {name}")


def block(name: str, first: str, count: int) -> list[str]:
    lines = log_lines(name)
    start = next(i for i, text in enumerate(lines) if re.search(first, text))
    return lines[start:start + count]


TRAIN = "zimage_3_train.log"
# accelerate launch's warning block (stderr), as the first lines of every real training log.
ACCELERATE_WARNING = block(TRAIN, r"^The following values were not passed", 5)
BANNER = block(TRAIN, r"^running training / ", 7)   # running training ... total optimization steps
MODEL_SAVED = line(TRAIN, r":model saved\.$")
SAMPLE_AT = line(TRAIN, r"generating sample images at step / ").rsplit(":", 1)[0] + ": {step}"
LOGGER_TRAINER = MODEL_SAVED.rsplit(":", 1)[0] + ":"           # INFO:musubi_tuner.training.trainer_base:
LOGGER_TRAIN_UTILS = line(TRAIN, r"saving state at step").rsplit(":", 1)[0] + ":"
SAVING_STATE_AT = line(TRAIN, r"saving state at step \d+$").rsplit(" ", 1)[0] + " {step}"
SAVING_LAST_STATE = line(TRAIN, r"saving last state\.$")
SAVING_CHECKPOINT = line(TRAIN, r"^saving checkpoint: ").split(": ", 1)[0] + ": {path}"
LOAD_DATASET = line(TRAIN, r"Load dataset config from ").rsplit(" ", 1)[0] + " {path}"
LOADING_DIT = line(TRAIN, r"trainer_base:Loading DiT model from ").rsplit(" ", 1)[0] + " {path}"
RESUME_FROM = line("extra_resume.log", r"resume training from local state: ").rsplit(" ", 1)[0] + " {path}"
STATE_FILES = [line(TRAIN, p).split(" saved in ")[0] + " saved in {dir}/" + line(TRAIN, p).rsplit("/", 1)[1]
               for p in (r"Model weights saved in", r"Optimizer state saved in", r"Scheduler state saved in",
                         r"Sampler state for dataloader 0 saved in", r"Random states saved in")]
# The files a saved state holds, as the real run wrote them (files.txt).
STATE_FILE_NAMES = sorted(p.rsplit("/", 1)[1] for p in (REAL / "files.txt").read_text(encoding="utf-8").split()
                          if "/out/zimage/tiny-state/" in p)
SAVING_STATE_TO = line(TRAIN, r"Saving current state to ").rsplit(" ", 1)[0] + " {dir}"
EPOCH = "epoch {epoch}/{epochs}"   # print(f"\nepoch {epoch + 1}/{num_train_epochs}"): checked against the logs
CACHE = {"cache_latents": "zimage_1_cache_latents.log", "cache_text_encoder": "zimage_2_cache_te.log"}


def encoding_dataset(stage: str, index: int) -> str:
    return line(CACHE[stage], r"Encoding dataset \[0\]").replace("[0]", f"[{index}]")


def cache_done(stage: str) -> str:
    return line(CACHE[stage], r"^INFO:__main__:Done!$")


def banner(items: int, batches: int, epochs: int, batch_size: int, steps: int) -> list[str]:
    values = [None, items, batches, epochs, batch_size, 1, steps]
    out = [BANNER[0]]
    for text, value in zip(BANNER[1:], values[1:]):
        out.append(re.sub(r"\d+$", str(value), text))
    return out


# --- tqdm's bar, as musubi's tqdm (4.67) draws it ------------------------------------------------

CHARSET = " " + "".join(map(chr, range(0x258F, 0x2587, -1)))   # " ▏▎▍▌▋▊▉█", as tqdm.std.Bar.UTF
N_BARS = 10


def interval(seconds: float) -> str:
    mins, s = divmod(int(seconds), 60)
    h, m = divmod(mins, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def rate_text(rate: float | None) -> str:
    if rate and 1 / rate > 1:
        return f"{1 / rate:5.2f}s/it"
    return (f"{rate:5.2f}" if rate else "?") + "it/s"


def meter(desc: str, n: int, total: int | None, elapsed: float, rate: float | None, postfix: str = "") -> str:
    """tqdm.format_meter for musubi's bars (ncols unknown -> a 10-cell bar)."""
    tail = f", {postfix}" if postfix else ""
    prefix = f"{desc}: " if desc else ""
    if total is None:
        return f"{prefix}{n}it [{interval(elapsed)}, {rate_text(rate)}{tail}]"
    frac = n / total if total else 0
    remaining = interval((total - n) / rate) if rate else "?"
    full, part = divmod(int(frac * N_BARS * 8), 8)
    bar = CHARSET[-1] * full
    if full < N_BARS:
        bar += CHARSET[part] + CHARSET[0] * (N_BARS - full - 1)
    return f"{prefix}{frac * 100:3.0f}%|{bar}| {n}/{total} [{interval(elapsed)}<{remaining}, {rate_text(rate)}{tail}]"


class Bar:
    """A tqdm bar on stderr with the calls musubi makes: update(1) redraws at most every 0.1 s
    (tqdm's mininterval), set_postfix() always redraws, close() redraws and ends the line."""

    MININTERVAL = 0.1

    def __init__(self, desc: str = "", total: int | None = None, stream=sys.stderr):
        self.desc, self.total, self.stream = desc, total, stream
        self.n = 0
        self.postfix = ""
        self.started = self.last_print = time.time()
        self.last_len = 0
        self.draw()

    def draw(self) -> None:
        elapsed = time.time() - self.started
        rate = self.n / elapsed if self.n and elapsed > 0 else None
        text = meter(self.desc, self.n, self.total, elapsed, rate, self.postfix)
        self.stream.write("\r" + text + " " * max(self.last_len - len(text), 0))
        self.stream.flush()
        self.last_len = len(text)

    def reset(self) -> None:
        self.n = 0
        self.started = self.last_print = time.time()
        self.draw()

    def update(self, count: int = 1) -> None:
        self.n += count
        now = time.time()
        if now - self.last_print >= self.MININTERVAL:
            self.last_print = now
            self.draw()

    def set_postfix(self, **values) -> None:
        self.postfix = ", ".join(f"{k}={v:2.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        self.draw()

    def close(self) -> None:
        self.draw()
        self.stream.write("\n")
        self.stream.flush()
