"""What the stand-in musubi scripts do (tests only; see tests/standin/README.md).

It replaces the GPU-only trainer: arguments are parsed with a parser rebuilt from the pinned CLI
spec (allow_abbrev on, like musubi), then the output musubi prints is reproduced - banner lines,
`epoch E/T`, tqdm redraws on stderr with `\\r`, `saving checkpoint:`, sample lines, `model saved.` -
and files are written under musubi's names, at a pace set by FAKE_MUSUBI_STEP_S. Image samples are
real small PNGs (drawn with zlib + struct) so the samples grid and viewer show pictures.
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

SPEC = Path(__file__).resolve().parents[4] / "fixtures" / "musubi-cli-spec.json"
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".avif"}
VIDEO_EXT = {".mp4", ".webm", ".avi", ".mkv", ".mov", ".flv"}
ARCH = {"qwen_image": "qi", "wan": "wan"}


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


def log(message: str) -> None:
    print(f"INFO:musubi_tuner:{message}", file=sys.stderr, flush=True)


def clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def tqdm_line(desc: str, n: int, total: int, started: float, postfix: str = "") -> str:
    elapsed = time.time() - started
    pct = int(100 * n / total) if total else 0
    filled = int(10 * n / total) if total else 0
    bar = "█" * filled + " " * (10 - filled)
    if n == 0 or elapsed <= 0:
        rate, eta = "?it/s", "?"
    else:
        per = n / elapsed
        rate = f"{per:.2f}it/s" if per >= 1 else f"{1 / per:.2f}s/it"
        eta = clock((total - n) / per)
    tail = f", {postfix}" if postfix else ""
    return f"\r{desc}: {pct:3d}%|{bar}| {n}/{total} [{clock(elapsed)}<{eta}, {rate}{tail}]"


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
    require_file(getattr(args, "vae", None), "--vae")
    require_file(getattr(args, "text_encoder", None) or getattr(args, "t5", None), "--text_encoder")
    items = [(e, f) for e in entries for f in e["files"]]
    started = time.time()
    arch = arch_of(script)
    for n, (entry, media) in enumerate(items, start=1):
        cache_dir = Path(entry["cache_directory"])
        cache_dir.mkdir(parents=True, exist_ok=True)
        res = entry.get("resolution", [960, 544])
        w, h = (res, res) if isinstance(res, int) else res
        name = f"{media.stem}_{arch}_te.safetensors" if te else f"{media.stem}_{w:04d}x{h:04d}_{arch}.safetensors"
        target = cache_dir / name
        if not (args.skip_existing and target.exists()):
            target.write_bytes(b"cache")
        print(tqdm_line("", n, len(items), started).replace("\r: ", "\r"), end="", file=sys.stderr, flush=True)
    print(file=sys.stderr, flush=True)
    log("done!")


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
    log(f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')}")
    log(f"Loading DiT model from {args.dit}")
    if args.resume:
        log(f"resume training from local state: {args.resume}")
    print("running training / 学習開始", flush=True)
    print(f"  num train items / 学習画像、動画数: {items}", flush=True)
    print(f"  num epochs / epoch数: {epochs}", flush=True)
    print(f"  total optimization steps / 学習ステップ数: {total}", flush=True)
    prompts = []
    if args.sample_prompts:
        prompts = [line for line in Path(args.sample_prompts).read_text(encoding="utf-8").splitlines()
                   if line.strip() and not line.startswith("#")]
    pace = float(os.environ.get("FAKE_MUSUBI_STEP_S", "0.02"))
    crash_at = int(os.environ.get("FAKE_MUSUBI_CRASH_AT_STEP", "0"))
    step_log = os.environ.get("FAKE_MUSUBI_STEP_LOG")
    if args.sample_at_first:
        sample(out, name, f"e{0:06d}", prompts, 0)
    started = time.time()
    print(tqdm_line("steps", 0, total, started), end="", file=sys.stderr, flush=True)
    step = 0
    loss_sum = 0.0
    for epoch in range(1, epochs + 1):
        print(f"\nepoch {epoch}/{epochs}", flush=True)
        for _ in range(per_epoch):
            if step >= total:
                break
            time.sleep(pace)
            step += 1
            if step_log:
                with open(step_log, "a") as f:
                    f.write(f"{step}\n")
            if step == crash_at:
                crash()
            loss_sum += 0.5 / step
            print(tqdm_line("steps", step, total, started, f"avr_loss={loss_sum / step:.4g}"), end="",
                  file=sys.stderr, flush=True)
            if args.save_every_n_steps and step % args.save_every_n_steps == 0 and step < total:
                save(out, f"{name}-step{step:08d}", args.save_state)
            if args.sample_every_n_steps and step % args.sample_every_n_steps == 0:
                sample(out, name, f"{step:06d}", prompts, step)
        if args.save_every_n_epochs and epoch % args.save_every_n_epochs == 0 and epoch < epochs:
            save(out, f"{name}-{epoch:06d}", args.save_state)
        if args.sample_every_n_epochs and epoch % args.sample_every_n_epochs == 0:
            sample(out, name, f"e{epoch:06d}", prompts, step)
    save(out, name, args.save_state_on_train_end)
    print("model saved.", flush=True)


def save(out: Path, stem: str, state: bool) -> None:
    path = out / f"{stem}.safetensors"
    print(f"\nsaving checkpoint: {path}", flush=True)
    path.write_bytes(b"lora weights")
    if state:
        state_dir = out / f"{stem}-state"
        state_dir.mkdir(exist_ok=True)
        (state_dir / "optimizer.bin").write_bytes(b"state")


def sample(out: Path, name: str, suffix: str, prompts: list[str], step: int) -> None:
    if not prompts:
        return
    print(f"\ngenerating sample images at step / サンプル画像生成 ステップ: {step}", flush=True)
    folder = out / "sample"
    folder.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d%H%M%S")
    for i, prompt in enumerate(prompts):
        seed = prompt.split(" --d ")[1].split()[0] if " --d " in prompt else None
        video = " --f " in prompt
        target = folder / f"{name}_{suffix}_{i:02d}_{stamp}{'_' + seed if seed else ''}{'.mp4' if video else '.png'}"
        if video:
            target.write_bytes(b"video")  # not a playable video: the UI shows its fallback
        else:
            w, h = prompt_size(prompt)
            target.write_bytes(sample_png(w, h, i, step))


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


def crash() -> None:
    print("\nTraceback (most recent call last):\n"
          '  File "src/musubi_tuner/hv_train_network.py", line 2043, in train\n'
          "    model_pred, target = self.call_dit(args, accelerator, transformer, latents, batch)\n"
          "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity "
          "of 23.55 GiB of which 1.10 GiB is free.", file=sys.stderr, flush=True)
    sys.exit(1)


def convert(args) -> None:
    require_file(args.input, "--input")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.input, args.output)
    log(f"Saving to {args.output} (target {args.target})")


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
