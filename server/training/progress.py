"""musubi's console output -> a progress record, loss points and notices.

What musubi prints (FACTS.md, and the real runs in tests/fixtures/musubi-real-output/):
- training: a start banner (`num train items`, `num epochs`, `total optimization steps`), `epoch E/T`
  per epoch, and tqdm redrawn with `\\r`
  (`steps:  50%|█████     | 2/4 [00:01<00:01,  1.02it/s, avr_loss=1.34]`, `s/it` when slow). A redraw
  often shares its line with the next logger line (`...avr_loss=1.35]INFO:musubi_tuner...:`), so
  whatever follows a bar on its line is read as a line of its own.
- cache stages iterate a generator, so their bar has no total: `3it [00:01, 2.47it/s]`, one bar per
  dataset (`Encoding dataset [i]` before each). The total, when the app can know it, comes from
  `expected_total` (see cache_total.py); beyond it, or without it, the count is shown alone.
- `saving checkpoint: <path>`, `...generating sample images at step / ...: N` and the logger line
  `INFO:musubi_tuner.training.trainer_base:model saved.` once the final model is written.

Loss: each step redraws the bar once on `update(1)`, still carrying the previous step's `avr_loss`,
then again after `set_postfix` with its own (and tqdm may skip the first redraw when steps are
fast). So the value that belongs to step N is the LAST one shown while the bar reads N: a step's
point is committed when the bar moves past it, when the final model is saved, or at `flush()`.

The parser is fed raw text chunks in any split (a chunk can end mid-line) and treats both `\\r`
and `\\n` as line ends, so every tqdm redraw is seen. A resumed run restarts musubi's counters;
`step_offset`/`epoch_offset` turn its numbers into the task's.

A run on several GPUs (`ranked`) prints every rank's lines with a `[defaultN]:` prefix (ranks.py): only
rank 0's lines count, so a second rank's sampling notices or bars never move the task's progress.
"""

from __future__ import annotations

import re
import time

from . import ranks

TQDM = re.compile(
    r"(?:(?P<desc>[^\r\n:|]*?):\s*)?(?P<pct>\d+)%\|[^|]*\|\s*(?P<n>\d+)/(?P<total>\d+)\s*"
    r"\[(?P<elapsed>[\d:]+)<(?P<eta>[\d:?]+),\s*(?P<rate>[\d.]+|\?)\s*(?P<unit>it/s|s/it)"
    r"(?:,\s*(?P<postfix>[^\]]*))?\]")
# tqdm over an iterable without len(): `3it [00:01, 2.47it/s]` (musubi's cache stages).
TQDM_COUNT = re.compile(
    r"(?:(?P<desc>[^\r\n:|\]]*?):\s*)?(?<![\w.])(?P<n>\d+)it \[(?P<elapsed>[\d:]+),\s*(?P<rate>[\d.]+|\?)\s*"
    r"(?P<unit>it/s|s/it)(?:,\s*(?P<postfix>[^\]]*))?\]")
EPOCH = re.compile(r"^\s*epoch (\d+)/(\d+)\s*$")
TOTAL_STEPS = re.compile(r"total optimization steps / [^:]*:\s*(\d+)")
NUM_EPOCHS = re.compile(r"num epochs / [^:]*:\s*(\d+)")
NUM_ITEMS = re.compile(r"num train items / [^:]*:\s*(\d+)")
CHECKPOINT = re.compile(r"saving checkpoint:\s*(.+?)\s*$")
SAMPLE = re.compile(r"generating sample images at step / [^:]*:\s*(\d+)")
MODEL_SAVED = re.compile(r"(?:^|:)model saved\.\s*$")   # a logger line: `INFO:<logger>:model saved.`
ENCODING_DATASET = re.compile(r"Encoding dataset \[(\d+)\]")
LOSS = re.compile(r"avr_loss=([-+\d.eE]+|nan|inf)")
LINE_END = re.compile(r"\r\n|\r|\n")


def parse_clock(text: str) -> float | None:
    """tqdm's `MM:SS` / `H:MM:SS` -> seconds."""
    if not text or "?" in text:
        return None
    total = 0.0
    for part in text.split(":"):
        total = total * 60 + float(part)
    return total


def find_bars(line: str) -> list[re.Match]:
    """Every tqdm bar in a line (with or without a total), in order."""
    found = list(TQDM.finditer(line))
    taken = [(m.start(), m.end()) for m in found]
    for m in TQDM_COUNT.finditer(line):
        if not any(s <= m.start() < e for s, e in taken):
            found.append(m)
    return sorted(found, key=lambda m: m.start())


class ProgressParser:
    def __init__(self, stage: str, *, step_offset: int = 0, epoch_offset: int = 0,
                 expected_total: int | None = None, ranked: bool = False):
        self.stage = stage
        self.ranked = ranked                     # a multi-process run: read rank 0's lines only
        self.step_offset = step_offset
        self.epoch_offset = epoch_offset
        self.expected_total = expected_total     # cache stages: batches the app expects (or None)
        self._pending = ""
        self._step_loss: tuple[int, int | None, float] | None = None   # the open step's latest loss
        self._committed = -1                     # highest step whose loss is final
        self._cache_done = 0                     # cache stages: iterations of earlier datasets' bars
        self._cache_n = 0
        self.record: dict = {"stage": stage, "step": None, "total_steps": None, "epoch": None,
                             "total_epochs": None, "items": None, "rate": None, "rate_unit": None,
                             "elapsed_s": None, "eta_s": None, "loss": None, "percent": None, "phase": None}
        self.losses: list[tuple[int, int | None, float]] = []   # (step, epoch, loss) not yet taken
        self.notices: list[dict] = []                           # checkpoint / sample lines not yet taken
        self.changed = False

    def feed(self, text: str) -> None:
        data = self._pending + text
        parts = LINE_END.split(data)
        self._pending = parts.pop()
        for line in parts:
            self._line(line)
        # A tqdm redraw without its `\r` yet is still worth showing now (it is read again, whole, later).
        bars = find_bars(self._own(self._pending) or "")
        if bars:
            self._bar(bars[-1])

    def flush(self) -> None:
        """End of the output: the last line and the last step's loss."""
        if self._pending:
            self._line(self._pending)
            self._pending = ""
        self._commit_step()

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

    def _own(self, line: str) -> str | None:
        """The line without its rank prefix, or None when another rank (or the launcher) printed it."""
        if not self.ranked:
            return line
        rank, rest = ranks.split(line)
        return rest if rank == 0 else None

    def _line(self, line: str) -> None:
        line = self._own(line)
        if line is None:
            return
        bars = find_bars(line)
        if bars:
            self._bar(bars[-1])
            line = line[bars[-1].end():]   # a logger line printed right after the redraw
        if not line.strip():
            return
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
        elif MODEL_SAVED.search(line):
            self._commit_step()
            self._set(phase="saved")
        elif self.stage != "train" and (m := ENCODING_DATASET.search(line)):
            self._cache_done += self._cache_n
            self._cache_n = 0

    def _bar(self, m: re.Match) -> None:
        desc = (m.group("desc") or "").strip()
        counted = "total" not in m.re.groupindex
        # Other bars appear too (sampling's denoising steps, model loading, each with its own desc):
        # only training's `steps` bar, and a cache stage's bar without a desc, are the stage's count.
        if (desc != "steps" or counted) if self.stage == "train" else bool(desc):
            return
        n = int(m.group("n"))
        rate = None if m.group("rate") == "?" else float(m.group("rate"))
        values = {"rate": rate, "rate_unit": m.group("unit"), "elapsed_s": parse_clock(m.group("elapsed"))}
        if self.stage == "train":
            total = int(m.group("total"))
            step = n + self.step_offset
            values.update(step=step, total_steps=total + self.step_offset, eta_s=parse_clock(m.group("eta")),
                          percent=round(100.0 * n / total, 1) if total else None)
            if self.record["phase"] != "saved":   # the bar's closing redraw comes after `model saved.`
                values["phase"] = "training"
            loss_m = LOSS.search(m.group("postfix") or "")
            if loss_m:
                values["loss"] = float(loss_m.group(1))
                self._step_seen(step, values["loss"])
        elif not counted:   # a cache bar that knows its total after all
            total = int(m.group("total"))
            values.update(step=n, total_steps=total, eta_s=parse_clock(m.group("eta")),
                          percent=round(100.0 * n / total, 1) if total else None)
        else:
            self._cache_n = n
            done = self._cache_done + n
            total = self.expected_total if self.expected_total and done <= self.expected_total else None
            eta = None
            if total and rate:
                eta = round((total - done) / rate if m.group("unit") == "it/s" else (total - done) * rate, 1)
            values.update(step=done, total_steps=total, eta_s=eta,
                          percent=round(100.0 * done / total, 1) if total else None)
        self._set(**values)

    def _step_seen(self, step: int, loss: float) -> None:
        if step <= self._committed:   # e.g. the bar's closing redraw after `model saved.`
            return
        if self._step_loss and step > self._step_loss[0]:
            self._commit_step()
        self._step_loss = (step, self.record["epoch"], loss)

    def _commit_step(self) -> None:
        if self._step_loss:
            self.losses.append(self._step_loss)
            self._committed = self._step_loss[0]
            self._step_loss = None

    def snapshot(self) -> dict:
        return {**self.record, "updated_at": time.time()}


# --- why a process failed ---------------------------------------------------------------------

TRACEBACK = "Traceback (most recent call last):"
# accelerate's launcher re-raises the trainer's failure as its own traceback, AFTER the real one.
LAUNCHER_WRAPPER = re.compile(
    r"^subprocess\.CalledProcessError: Command .* (?:returned non-zero exit status (?P<status>-?\d+)"
    r"|died with <Signals\.(?P<signal>\w+): (?P<signum>\d+)>)\.?\s*$")
# torchrun (several GPUs, ranks.py) ends a failed run with its own exception after the rank's traceback.
TORCHRUN_WRAPPER = re.compile(r"^torch\.distributed\.elastic\.multiprocessing\.errors\.ChildFailedError\b")
# Without a traceback: an exception-looking line, a logger error (`ERROR:<logger>:...`, musubi logs
# with Python's default format), argparse's `x.py: error: ...`, the shell's `Killed`.
ERROR_LINE = re.compile(r"^\s*(?:[\w.]+(?:Error|Exception|Interrupt)\b|CUDA out of memory|Killed\b"
                        r"|(?:ERROR|CRITICAL):[\w.]+:|[\w.-]+\.py: error: ).*")


def _text_lines(text: str) -> list[str]:
    lines = []
    for line in LINE_END.split(text):
        bars = find_bars(line)
        if bars:
            line = line[bars[-1].end():]
        if line.strip():
            lines.append(line.rstrip())
    return lines


def exception_lines(text: str) -> list[str]:
    """The exception line that ends each Python traceback in `text`, in order."""
    lines = _text_lines(text)
    out = []
    for i, line in enumerate(lines):
        if line.strip() != TRACEBACK:
            continue
        j = i + 1
        while j < len(lines) and lines[j][:1].isspace():   # frames, source lines, ^^^^ markers
            j += 1
        if j < len(lines) and lines[j].strip() != TRACEBACK:
            out.append(lines[j].strip())
    return out


def launcher_wrapper(text: str) -> dict | None:
    """accelerate's own `CalledProcessError` at the end of a failed run: the trainer's exit status or
    the signal that killed it, e.g. {"status": 1} or {"signal": "SIGKILL", "signum": 9}."""
    for line in reversed(_text_lines(text)):
        if m := LAUNCHER_WRAPPER.match(line.strip()):
            if m.group("signal"):
                return {"signal": m.group("signal"), "signum": int(m.group("signum"))}
            return {"status": int(m.group("status"))}
    return None


def last_error_line(text: str) -> str:
    """musubi's own line saying why a process failed ("" when the log has none): the exception that
    ended the last traceback that is not accelerate's wrapper around it, else the last error-looking
    line. Never an ordinary line: `epoch 1/20` is not a reason."""
    def wrapper(line: str) -> bool:
        return bool(LAUNCHER_WRAPPER.match(line) or TORCHRUN_WRAPPER.match(line))

    for line in reversed(exception_lines(text)):
        if not wrapper(line):
            return line[:500]
    for line in reversed(_text_lines(text)):
        if ERROR_LINE.match(line) and not wrapper(line.strip()):
            return line.strip()[:500]
    return ""
