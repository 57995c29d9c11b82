"""Backend: musubi-tuner's caption_images_by_qwen_vl.py, run in the trainer's Python environment.

It reuses the Qwen2.5-VL file that Qwen-Image training already needs, on the GPU. The script
captions a whole folder and loads the 7B model once, so this backend captions in one subprocess:
the chosen images are linked into a staging folder under `<data>/cache/tagging/` (named by index,
so any file name works and nothing in the dataset is touched), the script writes JSONL
(`{"image_path", "caption"}` per line, flushed per image) which is read while it runs, so
captions arrive one by one. The script's `text` format would write `.txt` files beside the
images, i.e. into the staging folder; it is supported for completeness and read at the end.

Settings owned by the training feature: `musubi_dir` (the musubi-tuner checkout) and
`musubi_python` (its interpreter), "" meaning the defaults of server/training/musubi_env.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from ..runtime import setting_keys as _runtime_keys  # noqa: F401  (registers musubi_dir / musubi_python)
from ..system.children import popen_flags
from .base import Backend, Item, ItemError, Result, TaggingError
from .config import setting_field
from .musubi_cli import SCRIPT, build_argv
from .prompt import render_prompt

POLL_SECONDS = 0.25
LOG_LINES = 40


@dataclass
class QwenOptions:
    model_path: str = setting_field("tagging_qwen_model_path")
    prompt: str = setting_field("tagging_qwen_prompt")
    max_new_tokens: int = setting_field("tagging_qwen_max_new_tokens")
    max_size: int = setting_field("tagging_qwen_max_size")
    fp8_vl: bool = setting_field("tagging_qwen_fp8_vl")
    output_format: str = "jsonl"
    musubi_dir: str = setting_field("musubi_dir")
    musubi_python: str = setting_field("musubi_python")
    trigger: str = ""


def musubi_location(musubi_dir: str | None, musubi_python: str | None) -> tuple[Path, Path]:
    """Checkout and interpreter, with "" resolved exactly as training resolves it."""
    from ..paths import program_dir  # noqa: PLC0415
    from ..training.musubi_env import default_python  # noqa: PLC0415 - the training feature owns this rule

    base = Path(musubi_dir).expanduser() if musubi_dir else program_dir() / "musubi-tuner"
    python = Path(musubi_python).expanduser() if musubi_python else default_python(base)
    return base, python


def parse_jsonl_lines(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(image file name, caption) from the script's JSONL output; lines that are not entries are skipped."""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            entry = json.loads(line)
            yield Path(entry["image_path"]).name, str(entry["caption"])
        except (ValueError, KeyError, TypeError):
            continue


def read_text_outputs(folder: Path, names: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(image file name, caption) from the `.txt` files the script's `text` format writes beside images."""
    for name in names:
        txt = (folder / name).with_suffix(".txt")
        if txt.is_file():
            yield name, txt.read_text(encoding="utf-8")


class MusubiQwenVLBackend(Backend):
    name = "musubi_qwen_vl"
    label = "Qwen2.5-VL through musubi-tuner (local GPU)"
    short_label = "Qwen2.5-VL"
    output_kind = "text"
    media = ("image",)
    Options = QwenOptions
    options: QwenOptions

    process: subprocess.Popen | None = None

    # -- command ------------------------------------------------------------------------------

    @property
    def musubi_dir(self) -> Path:
        return musubi_location(self.options.musubi_dir, self.options.musubi_python)[0]

    @property
    def python(self) -> Path:
        return musubi_location(self.options.musubi_dir, self.options.musubi_python)[1]

    def load(self) -> None:
        script = self.musubi_dir / SCRIPT
        if not script.is_file():
            raise TaggingError(f"{script} does not exist: set the musubi-tuner folder in the training settings.",
                               code="musubi_script_missing")
        if not self.python.is_file():
            raise TaggingError(f"The musubi-tuner Python {self.python} does not exist: set it in the training "
                               "settings.", code="musubi_python_missing")
        if not self.options.model_path:
            raise TaggingError("Choose the Qwen2.5-VL model file (the one Qwen-Image training uses).",
                               code="qwen_model_missing")
        if not Path(self.options.model_path).expanduser().is_file():
            raise TaggingError(f"The model file {self.options.model_path} does not exist.", code="qwen_model_missing")

    def command(self, image_dir: Path, output_file: Path) -> list[str]:
        opts = self.options
        prompt = render_prompt(opts.prompt, opts.trigger) if opts.prompt else None
        values = {
            "image_dir": str(image_dir),
            "model_path": str(Path(opts.model_path).expanduser()),
            "output_format": opts.output_format,
            "output_file": str(output_file) if opts.output_format == "jsonl" else None,
            "max_new_tokens": opts.max_new_tokens,
            "max_size": opts.max_size,
            "fp8_vl": bool(opts.fp8_vl),
            "prompt": prompt,
        }
        return [str(self.python), str(self.musubi_dir / SCRIPT), *build_argv(values)]

    # -- staging --------------------------------------------------------------------------------

    def _staging_root(self) -> Path:
        base = Path(self.layout.cache) if self.layout is not None else Path(os.environ.get("TMPDIR", "/tmp"))
        return base / "tagging" / f"qwen-{uuid.uuid4().hex[:8]}"

    @staticmethod
    def stage(items: list[Item], folder: Path) -> dict[str, Item]:
        """Link each image into `folder` as `<index><ext>`; returns staged name -> item."""
        folder.mkdir(parents=True, exist_ok=True)
        staged = {}
        for index, item in enumerate(items):
            name = f"{index:06d}{item.path.suffix.lower()}"
            _link_or_copy(item.path, folder / name)
            staged[name] = item
        return staged

    # -- running --------------------------------------------------------------------------------

    def caption(self, item: Item) -> str:
        result = next(iter(self.caption_many([item])))
        if not result.ok:
            raise ItemError(result.error, code=result.code or "item_failed")
        return result.caption

    def caption_many(self, items: Iterable[Item]) -> Iterator[Result]:
        items = list(items)
        for item in items:
            if item.kind not in self.media:
                yield Result(item, error="Qwen2.5-VL captioning through musubi handles images only.",
                             code="unsupported_media")
        images = [i for i in items if i.kind in self.media]
        if not images:
            return
        self.load()
        root = self._staging_root()
        try:
            staged = self.stage(images, root / "images")
            argv = self.command(root / "images", root / "captions.jsonl")
            yield from self._run(argv, staged, root)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _run(self, argv: list[str], staged: dict[str, Item], root: Path) -> Iterator[Result]:
        log: deque[str] = deque(maxlen=LOG_LINES)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
        try:
            self.process = subprocess.Popen(argv, cwd=str(self.musubi_dir), env=env, stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            text=True, encoding="utf-8", errors="replace", **popen_flags())
        except OSError as exc:
            raise TaggingError(f"Cannot start {argv[0]}: {exc}", code="musubi_start_failed") from None
        reader = threading.Thread(target=_collect, args=(self.process.stdout, log), daemon=True)
        reader.start()
        pending = dict(staged)
        jsonl = root / "captions.jsonl"
        offset = 0
        while pending:
            finished = self.process.poll() is not None
            if self.stopped:
                _stop_tree(self.process)
                return
            if self.options.output_format == "jsonl":
                offset, found = _read_new_lines(jsonl, offset)
                for name, caption in parse_jsonl_lines(found):
                    if name in pending:
                        yield Result(pending.pop(name), caption=caption.strip())
            if finished:
                break
            time.sleep(POLL_SECONDS)
        self.process.wait()
        reader.join(timeout=2)
        if self.options.output_format == "text":
            for name, caption in read_text_outputs(root / "images", list(pending)):
                yield Result(pending.pop(name), caption=caption.strip())
        yield from self._leftovers(pending, log)

    def _leftovers(self, pending: dict[str, Item], log: deque[str]) -> Iterator[Result]:
        """Images the script gave no caption for, each with the reason from its exit status and log."""
        if not pending:
            return
        code = self.process.returncode
        last = next((line for line in reversed(log) if line.strip()), "")
        if code:
            reason = f"musubi's captioning script stopped with exit code {code}: {last[-300:]}"
        else:
            reason = "musubi's captioning script finished without a caption for this image."
        for item in pending.values():
            yield Result(item, error=reason, code="musubi_failed")

    def close(self) -> None:
        super().close()
        if self.process is not None and self.process.poll() is None:
            _stop_tree(self.process)


def _link_or_copy(src: Path, dst: Path) -> None:
    # A hard link costs nothing and works across every OS; other volumes need a copy.
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _read_new_lines(path: Path, offset: int) -> tuple[int, list[str]]:
    """Complete lines appended to `path` since `offset` (a half-written last line waits for next time)."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return offset, []
    end = data.rfind(b"\n") + 1
    return offset + end, data[:end].decode("utf-8", "replace").splitlines()


def _collect(stream, log: deque[str]) -> None:
    # tqdm redraws with \r; keep the latest state of each line only.
    for line in stream:
        log.append(line.rstrip("\n").split("\r")[-1])


def _stop_tree(process: subprocess.Popen) -> None:
    """End the script and anything it started (CUDA workers keep the GPU busy otherwise)."""
    try:
        import psutil  # noqa: PLC0415

        parent = psutil.Process(process.pid)
        procs = parent.children(recursive=True) + [parent]
        for p in procs:
            p.terminate()
        _, alive = psutil.wait_procs(procs, timeout=5)
        for p in alive:
            p.kill()
    except Exception:  # noqa: BLE001 - the process may already be gone; nothing else to do
        if process.poll() is None:
            process.kill()
    process.wait(timeout=10)
