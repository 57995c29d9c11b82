"""musubi's console output -> a progress record, loss points and notices.

What musubi prints (FACTS.md): a start banner on stdout (`num train items`, `num epochs`,
`total optimization steps`), `epoch E/T` per epoch, tqdm on stderr redrawn with `\\r`
(`steps:   2%|▏   | 2/100 [00:00<00:02, 39.62it/s, avr_loss=0.123]`, `s/it` when slow),
`saving checkpoint: <path>`, `generating sample images at step / ...: N` and `model saved.`.

The parser is fed raw text chunks in any split (a chunk can end mid-line) and treats both `\\r`
and `\\n` as line ends, so every tqdm redraw is seen. A resumed run restarts musubi's counters;
`step_offset`/`epoch_offset` turn its numbers into the task's.
"""

from __future__ import annotations

import re
import time

TQDM = re.compile(
    r"(?:(?P<desc>[^\r\n:|]*?):\s*)?(?P<pct>\d+)%\|[^|]*\|\s*(?P<n>\d+)/(?P<total>\d+)\s*"
    r"\[(?P<elapsed>[\d:]+)<(?P<eta>[\d:?]+),\s*(?P<rate>[\d.]+|\?)\s*(?P<unit>it/s|s/it)"
    r"(?:,\s*(?P<postfix>[^\]]*))?\]")
EPOCH = re.compile(r"^\s*epoch (\d+)/(\d+)\s*$")
TOTAL_STEPS = re.compile(r"total optimization steps / [^:]*:\s*(\d+)")
NUM_EPOCHS = re.compile(r"num epochs / [^:]*:\s*(\d+)")
NUM_ITEMS = re.compile(r"num train items / [^:]*:\s*(\d+)")
CHECKPOINT = re.compile(r"saving checkpoint:\s*(.+?)\s*$")
SAMPLE = re.compile(r"generating sample images at step / [^:]*:\s*(\d+)")
LOSS = re.compile(r"avr_loss=([-+\d.eE]+|nan|inf)")
ERROR_LINE = re.compile(r"^\s*(?:[\w.]+(?:Error|Exception|Interrupt)|CUDA out of memory|RuntimeError|"
                        r"AssertionError|Killed)\b.*")


def parse_clock(text: str) -> float | None:
    """tqdm's `MM:SS` / `H:MM:SS` -> seconds."""
    if not text or "?" in text:
        return None
    total = 0.0
    for part in text.split(":"):
        total = total * 60 + float(part)
    return total


class ProgressParser:
    def __init__(self, stage: str, *, step_offset: int = 0, epoch_offset: int = 0):
        self.stage = stage
        self.step_offset = step_offset
        self.epoch_offset = epoch_offset
        self._pending = ""
        self.record: dict = {"stage": stage, "step": None, "total_steps": None, "epoch": None,
                             "total_epochs": None, "items": None, "rate": None, "rate_unit": None,
                             "elapsed_s": None, "eta_s": None, "loss": None, "percent": None, "phase": None}
        self.losses: list[tuple[int, int | None, float]] = []   # (step, epoch, loss) not yet taken
        self.notices: list[dict] = []                           # checkpoint / sample lines not yet taken
        self.changed = False
        self.last_line = ""

    def feed(self, text: str) -> None:
        data = self._pending + text
        parts = re.split(r"\r\n|\r|\n", data)
        self._pending = parts.pop()
        for line in parts:
            self._line(line)
        # A tqdm redraw without its `\r` yet is still worth showing now.
        if TQDM.search(self._pending):
            self._tqdm(self._pending, final=False)

    def flush(self) -> None:
        if self._pending:
            self._line(self._pending)
            self._pending = ""

    def take_losses(self) -> list[tuple[int, int | None, float]]:
        losses, self.losses = self.losses, []
        return losses

    def take_notices(self) -> list[dict]:
        notices, self.notices = self.notices, []
        return notices

    def _set(self, **values) -> None:
        for key, value in values.items():
            if self.record.get(key) != value:
                self.record[key] = value
                self.changed = True

    def _line(self, line: str) -> None:
        if not line.strip():
            return
        if TQDM.search(line):
            self._tqdm(line, final=True)
            return
        self.last_line = line
        if m := EPOCH.match(line):
            self._set(epoch=int(m.group(1)) + self.epoch_offset, total_epochs=int(m.group(2)) + self.epoch_offset)
        elif m := TOTAL_STEPS.search(line):
            self._set(total_steps=int(m.group(1)) + self.step_offset, phase="training")
        elif m := NUM_EPOCHS.search(line):
            self._set(total_epochs=int(m.group(1)) + self.epoch_offset)
        elif m := NUM_ITEMS.search(line):
            self._set(items=int(m.group(1)))
        elif m := CHECKPOINT.search(line):
            self.notices.append({"type": "checkpoint", "path": m.group(1), "step": self.record["step"],
                                 "epoch": self.record["epoch"]})
        elif m := SAMPLE.search(line):
            self._set(phase="sampling")
            self.notices.append({"type": "sample", "step": int(m.group(1)) + self.step_offset,
                                 "epoch": self.record["epoch"]})
        elif line.strip() == "model saved.":
            self._set(phase="saved")

    def _tqdm(self, line: str, final: bool) -> None:
        matches = list(TQDM.finditer(line))
        m = matches[-1]
        desc = (m.group("desc") or "").strip()
        # During training other bars (sampling's denoising steps) appear; only "steps" is the run.
        if self.stage == "train" and desc != "steps":
            return
        n, total = int(m.group("n")), int(m.group("total"))
        rate = None if m.group("rate") == "?" else float(m.group("rate"))
        values = {"rate": rate, "rate_unit": m.group("unit"), "elapsed_s": parse_clock(m.group("elapsed")),
                  "eta_s": parse_clock(m.group("eta")), "percent": round(100.0 * n / total, 1) if total else None}
        if self.stage == "train":
            step = n + self.step_offset
            values.update(step=step, total_steps=total + self.step_offset, phase="training")
            loss_m = LOSS.search(m.group("postfix") or "")
            if loss_m:
                loss = float(loss_m.group(1))
                values["loss"] = loss
                if step != self.record["step"]:  # one point per step, not per redraw
                    self.losses.append((step, self.record["epoch"], loss))
        else:
            values.update(step=n, total_steps=total)
        self._set(**values)

    def snapshot(self) -> dict:
        return {**self.record, "updated_at": time.time()}


def last_error_line(text: str) -> str:
    """The line that best says why a process failed: the last exception line, else the last text line."""
    lines = [line.strip() for line in re.split(r"\r\n|\r|\n", text) if line.strip()]
    lines = [line for line in lines if not TQDM.search(line)]
    for line in reversed(lines):
        if ERROR_LINE.match(line):
            return line[:500]
    return lines[-1][:500] if lines else ""
