"""What the stand-in musubi scripts do (tests only; see tests/standin/README.md).

It replaces the trainer for faults the real one cannot produce on demand (out of memory, a hang,
an ignored SIGTERM) and for fast process-handling tests: arguments are parsed with a parser rebuilt
from the pinned CLI spec (allow_abbrev on, like musubi), then musubi's output is replayed from the
REAL logs (real_output.py: banner, `epoch E/T`, tqdm redraws with `\\r` in musubi's call order,
`saving checkpoint:`, logger lines incl. `...:model saved.`, cache-stage count bars) and files are
written under musubi's names (image samples with the `_000` index), at a pace set by
FAKE_MUSUBI_STEP_S. A failure raises a real Python exception, so the traceback is Python's own.
Image samples are real small PNGs (drawn with zlib + struct) so the samples grid and viewer show pictures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import struct
import sys
import time
import tomllib
import zlib
from pathlib import Path

import real_output as real

SPEC = Path(__file__).resolve().parents[4] / "fixtures" / "musubi-cli-spec.json"
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".avif"}
VIDEO_EXT = {".mp4", ".webm", ".avi", ".mkv", ".mov", ".flv"}
ARCH = {"qwen_image": "qi", "wan": "wan", "hidream_o1": "ho1"}


def _int_or_float(value: str):
    try:
        return int(value)
    except ValueError:
        return float(value)


TYPES = {"int": int, "float": float, "str": str, "Path": str, "_int_or_float": _int_or_float, None: None}


def build_parser(script: str) -> argparse.ArgumentParser:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))["scripts"][f"src/musubi_tuner/{script}.py"]
    parser = argparse.ArgumentParser(prog=f"{script}.py", allow_abbrev=True)
    for o in spec:
        kw = {"dest": o["dest"], "default": o["default"]}
        if o["action"] == "_StoreTrueAction":
            kw["action"] = "store_true"
        elif o["action"] == "_StoreFalseAction":
            kw["action"] = "store_false"
        else:
            if TYPES[o["type"]]:
                kw["type"] = TYPES[o["type"]]
            if o["nargs"] is not None:
                kw["nargs"] = o["nargs"]
            if o["choices"] is not None:
                kw["choices"] = o["choices"]
            kw["required"] = o["required"]
        parser.add_argument(*o["flags"], **kw)
    return parser


def say(text: str = "", stream=None) -> None:
    """One line, flushed at once (the app runs stages with PYTHONUNBUFFERED like this)."""
    stream = stream or sys.stderr
    stream.write(text + "\n")
    stream.flush()


def accelerator_print(text: str) -> None:
    """musubi's accelerator.print(): stdout."""
    say(text, sys.stdout)


def dataset_entries(config_path: str) -> list[dict]:
    doc = tomllib.loads(Path(config_path).read_text(encoding="utf-8"))
    general = doc.get("general", {})
    out = []
    for entry in doc["datasets"]:
        merged = {**general, **entry}
        folder = Path(merged.get("image_directory") or merged.get("video_directory"))
        exts = VIDEO_EXT if "video_directory" in merged else IMAGE_EXT
        merged["files"] = sorted(p for p in folder.iterdir() if p.suffix.lower() in exts) if folder.is_dir() else []
        out.append(merged)
    return out


def require_file(path: str | None, flag: str) -> None:
    if path and not Path(path).is_file():
        raise FileNotFoundError(f"{flag} not found: {path}")


def arch_of(script: str) -> str:
    for prefix, arch in ARCH.items():
        if script.startswith(prefix):
            return arch
    return "x"


def cache_stage(script: str, args) -> None:
    entries = dataset_entries(args.dataset_config)
    te = "text_encoder" in script
    stage = "cache_text_encoder" if te else "cache_latents"
    require_file(getattr(args, "vae", None), "--vae")
    require_file(getattr(args, "text_encoder", None) or getattr(args, "t5", None), "--text_encoder")
    say(real.line(real.CACHE[stage], r"Load dataset config from").rsplit(" ", 1)[0] + f" {args.dataset_config}")
    arch = arch_of(script)
    pace = float(os.environ.get("FAKE_MUSUBI_CACHE_S") or float(os.environ.get("FAKE_MUSUBI_STEP_S", "0.02")) / 4)
    for index, entry in enumerate(entries):
        say(real.encoding_dataset(stage, index))
        cache_dir = Path(entry["cache_directory"])
        cache_dir.mkdir(parents=True, exist_ok=True)
        # musubi iterates a generator of batches: its bar has no total (`3it [00:01, 2.47it/s]`).
        bar = real.Bar()
        caption_ext = entry.get("caption_extension", ".txt")
        for media in entry["files"]:
            if not media.with_suffix(caption_ext).is_file():
                continue   # musubi's glob keeps only items with a caption
            time.sleep(pace)
            if te:
                name = f"{media.stem}_{arch}_te.safetensors"
            else:
                # Latent caches are named by the item's ORIGINAL size (REAL-RUN.md); the stand-in's
                # media are not real pictures, so the bucket resolution stands in for it.
                res = entry.get("resolution", [960, 544])
                w, h = (res, res) if isinstance(res, int) else res
                name = f"{media.stem}_{w:04d}x{h:04d}_{arch}.safetensors"
            target = cache_dir / name
            if not (args.skip_existing and target.exists()):
                target.write_bytes(b"cache")
            bar.update(1)
            hold_until_released()
        bar.close()
    say(real.cache_done(stage))


def hold_until_released() -> None:
    """With FAKE_MUSUBI_CACHE_HOLD=<file>, caching stops after its first item until that file exists, so a
    test can look at a running cache stage however slow the machine is."""
    hold = os.environ.get("FAKE_MUSUBI_CACHE_HOLD")
    deadline = time.monotonic() + 300
    while hold and not Path(hold).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


class OutOfMemoryError(RuntimeError):
    """Stands for torch.OutOfMemoryError, so Python prints the same last traceback line."""


OutOfMemoryError.__module__ = "torch"


def train_stage(script: str, args) -> None:
    if args.fp8_scaled and not args.fp8_base:
        raise ValueError("fp8_scaled requires fp8_base")
    if not args.optimizer_type:
        raise ValueError("optimizer_type is empty")
    require_file(args.dit, "--dit")
    if args.resume and not Path(args.resume).is_dir():
        raise FileNotFoundError(f"resume state not found: {args.resume}")
    require_file(args.network_weights, "--network_weights")
    if args.ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    entries = dataset_entries(args.dataset_config)
    items = sum(len(e["files"]) * e.get("num_repeats", 1) for e in entries)
    batch = entries[0].get("batch_size", 1) if entries else 1
    per_epoch = max(1, math.ceil(items / batch))
    epochs = args.max_train_epochs or math.ceil(args.max_train_steps / per_epoch)
    total = args.max_train_epochs and per_epoch * epochs or args.max_train_steps
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = args.output_name
    say(real.LOAD_DATASET.format(path=args.dataset_config))
    say(f"{real.LOGGER_TRAINER}CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')}")
    say(real.LOADING_DIT.format(path=args.dit))
    if args.resume:
        say(real.RESUME_FROM.format(path=args.resume))
    for text in real.banner(items, per_epoch, epochs, batch, total):
        accelerator_print(text)
    prompts = []
    if args.sample_prompts:
        prompts = [line for line in Path(args.sample_prompts).read_text(encoding="utf-8").splitlines()
                   if line.strip() and not line.startswith("#")]
    pace = float(os.environ.get("FAKE_MUSUBI_STEP_S", "0.02"))
    crash_at = int(os.environ.get("FAKE_MUSUBI_CRASH_AT_STEP", "0"))
    step_log = os.environ.get("FAKE_MUSUBI_STEP_LOG")
    # The calls musubi's trainer_base.train() makes, in its order (see real-output/*_train.log).
    bar = real.Bar("steps", total)
    if args.sample_at_first:
        sample(out, name, f"e{0:06d}", prompts, 0)
    step = 0
    loss_sum = 0.0
    for epoch in range(1, epochs + 1):
        accelerator_print("\n" + real.EPOCH.format(epoch=epoch, epochs=epochs))
        for _ in range(per_epoch):
            if step >= total:
                break
            time.sleep(pace)
            if step == 0:
                bar.reset()
            bar.update(1)             # redraws with the PREVIOUS step's avr_loss
            step += 1
            if step_log:
                with open(step_log, "a") as f:
                    f.write(f"{step}\n")
            if step == crash_at:
                raise OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total "
                                       "capacity of 23.55 GiB of which 1.10 GiB is free.")
            if args.sample_every_n_steps and step % args.sample_every_n_steps == 0:
                sample(out, name, f"{step:06d}", prompts, step)
            if args.save_every_n_steps and step % args.save_every_n_steps == 0:
                save(out, f"{name}-step{step:08d}", args.save_state, f"step {step}")
            loss_sum += 0.5 / step
            bar.set_postfix(avr_loss=loss_sum / step)   # and again with this step's
        if args.save_every_n_epochs and epoch % args.save_every_n_epochs == 0 and epoch < epochs:
            save(out, f"{name}-{epoch:06d}", args.save_state, f"epoch {epoch}")
        if args.sample_every_n_epochs and epoch % args.sample_every_n_epochs == 0:
            sample(out, name, f"e{epoch:06d}", prompts, step)
    if args.save_state_on_train_end or args.save_state:   # musubi saves the last state before the model
        save_state(out / f"{name}-state", None)
    save(out, name, False, None)
    say(real.MODEL_SAVED)
    bar.close()


def save(out: Path, stem: str, state: bool, when: str | None) -> None:
    path = out / f"{stem}.safetensors"
    accelerator_print("\n" + real.SAVING_CHECKPOINT.format(path=path))
    path.write_bytes(tiny_safetensors())
    if state:
        save_state(out / f"{stem}-state", when)


def save_state(state_dir: Path, when: str | None) -> None:
    say(real.LOGGER_TRAIN_UTILS)
    say(real.SAVING_STATE_AT.replace("step {step}", when) if when else real.SAVING_LAST_STATE)
    say(real.SAVING_STATE_TO.format(dir=state_dir))
    state_dir.mkdir(exist_ok=True)
    for template in real.STATE_FILES:
        say(template.format(dir=state_dir))
    for file in real.STATE_FILE_NAMES:
        (state_dir / file).write_bytes(tiny_safetensors() if file.endswith(".safetensors") else torch_archive(file))


def tiny_safetensors() -> bytes:
    """A whole .safetensors file (one float): the app reads a checkpoint's header to tell a whole one from a cut
    one before resuming from it (server/training/state_files.py)."""
    header = json.dumps({"lora_unet_x.lora_down.weight": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})
    return struct.pack("<Q", len(header)) + header.encode() + struct.pack("<f", 0.5)


def torch_archive(name: str) -> bytes:
    """The container torch.save writes (a zip archive), holding no real pickle: whole to state_files.py."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{Path(name).stem}/data.pkl", b"standin")
    return buf.getvalue()


def sample(out: Path, name: str, suffix: str, prompts: list[str], step: int) -> None:
    if not prompts:
        return
    say(real.LOGGER_TRAINER)
    say(real.SAMPLE_AT.format(step=step))
    folder = out / "sample"
    folder.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d%H%M%S")
    for i, prompt in enumerate(prompts):
        seed = prompt.split(" --d ")[1].split()[0] if " --d " in prompt else None
        frames = prompt.split(" --f ")[1].split()[0] if " --f " in prompt else "1"
        stem = f"{name}_{suffix}_{i:02d}_{stamp}{'_' + seed if seed else ''}"
        say(f"{real.LOGGER_TRAINER}prompt: {prompt.split(' --')[0]}")
        if int(frames) > 1:
            (folder / f"{stem}.mp4").write_bytes(b"video")  # not a playable video: the UI shows its fallback
        else:
            # musubi saves images through save_images_grid, which adds a per-image index.
            w, h = prompt_size(prompt)
            (folder / f"{stem}_000.png").write_bytes(sample_png(w, h, i, step))


def prompt_size(prompt: str) -> tuple[int, int]:
    """The `--w` / `--h` of a sample prompt line (musubi's default 256 when absent)."""
    found = {}
    for key in ("w", "h"):
        part = prompt.split(f" --{key} ")
        if len(part) > 1:
            try:
                found[key] = int(part[1].split()[0])
            except ValueError:
                pass
    return found.get("w", 256), found.get("h", 256)


HUES = [(224, 96, 64), (64, 144, 224), (96, 192, 96), (208, 160, 48), (160, 96, 208)]


def sample_png(width: int, height: int, prompt_index: int, step: int, longest: int = 192) -> bytes:
    """A small real PNG with the prompt's aspect ratio (pure Python: zlib + struct): a gradient in a
    colour per prompt and a disc that grows with the step, so samples differ like real ones do."""
    scale = longest / max(width, height, 1)
    w, h = max(8, round(width * scale)), max(8, round(height * scale))
    r0, g0, b0 = HUES[prompt_index % len(HUES)]
    radius = min(w, h) * (0.12 + 0.3 * step / (step + 6))
    cx, cy = w / 2, h / 2
    rows = []
    for y in range(h):
        shade = 0.45 + 0.55 * y / max(1, h - 1)
        bg = bytes((int(r0 * shade), int(g0 * shade), int(b0 * shade)))
        dy2 = (y - cy) ** 2
        row = bytearray(b"\0")
        for x in range(w):
            row += b"\xf2\xf2\xf2" if (x - cx) ** 2 + dy2 <= radius * radius else bg
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + chunk(b"IEND", b""))


def convert(args) -> None:
    require_file(args.input, "--input")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.input, args.output)
    say(f"INFO:musubi_tuner.convert_lora:Saving to {args.output} (target {args.target})")


def main(script: str) -> None:
    parser = build_parser(script)
    args = parser.parse_args()
    args.ignore_sigterm = os.environ.get("FAKE_MUSUBI_IGNORE_SIGTERM") == "1"
    if script == "convert_lora":
        convert(args)
    elif script.endswith("_train_network"):
        train_stage(script, args)
    else:
        cache_stage(script, args)
