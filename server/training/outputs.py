"""What a run leaves in `output/`: checkpoints, saved states and samples, read from musubi's names.

    {name}-{epoch:06d}.safetensors        {name}-step{step:08d}.safetensors        {name}.safetensors
    {name}-{epoch:06d}-state/             {name}-step{step:08d}-state/             {name}-state/
    sample/{name}_{suffix}_{prompt:02d}_{YYYYmmddHHMMSS}[_{seed}]_{frame:03d}.png   (images)
    sample/{name}_{suffix}_{prompt:02d}_{YYYYmmddHHMMSS}[_{seed}].mp4               (videos)
        suffix e{epoch:06d} (epoch samples and --sample_at_first) or {step:06d} (step samples);
        musubi saves images through save_images_grid, which appends a per-image index (`_000`):
        without a seed the name ends `_{time}_000.png`, so that index is never read as a seed.
    sample/sample_{step:06d}_{prompt:02d}.png and .mp4                              (Kandinsky 5)

A resumed run writes under its own output name (`<name>-r1`, ...) because musubi restarts its
counters; each `Segment` maps one output name to the task's epoch/step numbering.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_EXTENSIONS = {".png", ".jpg", ".webp", ".mp4"}


@dataclass(frozen=True)
class Segment:
    output_name: str
    epoch_offset: int = 0
    step_offset: int = 0

    @staticmethod
    def from_dict(d: dict) -> "Segment":
        return Segment(d["output_name"], int(d.get("epoch_offset") or 0), int(d.get("step_offset") or 0))


def _match_segment(stem: str, segments: list[Segment]) -> tuple[Segment, str] | None:
    """The segment whose output name starts `stem`, and the rest of the stem (longest name first)."""
    for seg in sorted(segments, key=lambda s: len(s.output_name), reverse=True):
        if stem.startswith(seg.output_name):
            return seg, stem[len(seg.output_name):]
    return None


def _numbers(rest: str, seg: Segment) -> dict | None:
    if rest == "":
        return {"kind": "final", "epoch": None, "step": None}
    if m := re.fullmatch(r"-(\d{6})", rest):
        return {"kind": "epoch", "epoch": int(m.group(1)) + seg.epoch_offset, "step": None}
    if m := re.fullmatch(r"-step(\d{8})", rest):
        return {"kind": "step", "epoch": None, "step": int(m.group(1)) + seg.step_offset}
    return None


def checkpoints(output_dir: Path, segments: list[Segment]) -> list[dict]:
    out = []
    if not output_dir.is_dir():
        return out
    for p in output_dir.iterdir():
        if not (p.is_file() and p.suffix == ".safetensors"):
            continue
        found = _match_segment(p.stem, segments)
        info = found and _numbers(found[1], found[0])
        if info:
            stat = p.stat()
            out.append({"file": p.name, **info, "segment": found[0].output_name, "size": stat.st_size,
                        "mtime": stat.st_mtime})
    return sorted(out, key=lambda c: (c["mtime"], c["file"]))


def states(output_dir: Path, segments: list[Segment]) -> list[dict]:
    out = []
    if not output_dir.is_dir():
        return out
    for p in output_dir.iterdir():
        if not (p.is_dir() and p.name.endswith("-state")):
            continue
        found = _match_segment(p.name[:-len("-state")], segments)
        info = found and _numbers(found[1], found[0])
        if info:
            out.append({"dir": p.name, **info, "segment": found[0].output_name, "mtime": p.stat().st_mtime})
    return sorted(out, key=lambda s: (s["mtime"], s["dir"]))


def converted(output_dir: Path) -> list[dict]:
    """Checkpoints converted for other tools (convert.py writes `converted/<stem>-<target>.safetensors`)."""
    folder = output_dir / "converted"
    out = []
    if not folder.is_dir():
        return out
    for p in folder.iterdir():
        m = re.fullmatch(r"(?P<stem>.+)-(?P<target>comfyui|musubi)", p.stem)
        if p.is_file() and p.suffix == ".safetensors" and m:
            stat = p.stat()
            # `target` is the file's format; `convert_target` the --target value that wrote it.
            out.append({"file": f"converted/{p.name}", "source": f"{m.group('stem')}.safetensors",
                        "target": m.group("target"),
                        "convert_target": "other" if m.group("target") == "comfyui" else "default",
                        "size": stat.st_size, "mtime": stat.st_mtime})
    return sorted(out, key=lambda c: (c["mtime"], c["file"]))


SAMPLE_HEAD = r"^_(?:e(?P<epoch>\d{6})|(?P<step>\d{6}))_(?P<index>\d{2})_(?P<time>\d{14})(?:_(?P<seed>\d+))?"
SAMPLE_NAME = {"image": re.compile(SAMPLE_HEAD + r"_(?P<frame>\d{3})$"), "video": re.compile(SAMPLE_HEAD + "$")}
SAMPLE_VIDEO_EXTENSIONS = {".mp4"}  # what musubi writes, not what it reads (server/media_types.py)
# Kandinsky 5's sampler names each sample by the step and the prompt alone, as a frame .png and an .mp4, without the
# output name, time or seed (kandinsky5_train_network.py sample_images). A resumed run restarts the step count and
# writes over the same names, so such a file belongs to the newest segment; its time is the file's.
K5_SAMPLE_NAME = re.compile(r"^sample_(?P<step>\d{6})_(?P<index>\d{2})$")


def samples(output_dir: Path, segments: list[Segment]) -> list[dict]:
    folder = output_dir / "sample"
    out = []
    if not folder.is_dir():
        return out
    for p in folder.iterdir():
        if not (p.is_file() and p.suffix.lower() in SAMPLE_EXTENSIONS):
            continue
        kind = "video" if p.suffix.lower() in SAMPLE_VIDEO_EXTENSIONS else "image"
        found = _match_segment(p.stem, segments)
        m = found and SAMPLE_NAME[kind].match(found[1])
        if not m:
            if segments and (k5 := K5_SAMPLE_NAME.match(p.stem)):
                out.append(_k5_sample(p, kind, k5, segments[-1]))
            continue
        seg = found[0]
        epoch = int(m.group("epoch")) + seg.epoch_offset if m.group("epoch") is not None else None
        step = int(m.group("step")) + seg.step_offset if m.group("step") is not None else None
        out.append({"file": f"sample/{p.name}", "epoch": epoch, "step": step, "prompt_index": int(m.group("index")),
                    "seed": int(m.group("seed")) if m.group("seed") else None, "time": m.group("time"),
                    "kind": kind, "segment": seg.output_name,
                    "mtime": p.stat().st_mtime})
    return sorted(out, key=lambda s: (s["time"], s["prompt_index"], s["file"]))


def _k5_sample(p: Path, kind: str, m: re.Match, seg: Segment) -> dict:
    mtime = p.stat().st_mtime
    return {"file": f"sample/{p.name}", "epoch": None, "step": int(m.group("step")) + seg.step_offset,
            "prompt_index": int(m.group("index")), "seed": None,
            "time": time.strftime("%Y%m%d%H%M%S", time.localtime(mtime)), "kind": kind,
            "segment": seg.output_name, "mtime": mtime}


class OutputWatcher:
    """Reports checkpoints and samples that appeared since the last call (for live announcements)."""

    def __init__(self, output_dir: Path, segments: list[Segment]):
        self.output_dir = output_dir
        self.segments = segments
        self._seen: set[str] = {c["file"] for c in checkpoints(output_dir, segments)}
        self._seen |= {s["file"] for s in samples(output_dir, segments)}
        self._sizes: dict[str, int] = {}

    def poll(self) -> list[tuple[str, dict]]:
        found = []
        for c in checkpoints(self.output_dir, self.segments):
            # A checkpoint is announced once its size stops changing (musubi is still writing it).
            if c["file"] not in self._seen and self._sizes.get(c["file"]) == c["size"]:
                self._seen.add(c["file"])
                found.append(("checkpoint", c))
            self._sizes[c["file"]] = c["size"]
        for s in samples(self.output_dir, self.segments):
            if s["file"] not in self._seen:
                self._seen.add(s["file"])
                found.append(("sample", s))
        return found

    def drain(self) -> list[tuple[str, dict]]:
        """At the end of a run: whatever is left, without waiting for sizes to settle."""
        self._sizes = {c["file"]: c["size"] for c in checkpoints(self.output_dir, self.segments)}
        return self.poll()
