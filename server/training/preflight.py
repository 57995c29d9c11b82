"""The pre-flight report: the dataset as the chosen task would read it, before anything runs.

Built on dataset_checks.findings (what musubi's datasource does from file names) plus what needs the
files' headers (media_info.py; nothing is decoded):
- unreadable images/videos/controls (musubi crashes on them while caching): block;
- images smaller than their bucket: upscaled (warn), or kept at their own size with bucket_no_upscale
  (info); an image so small that its bucket side rounds to 0: block;
- control images whose aspect ratio differs from the target's (cropped to the target's bucket): warn;
- duplicates by content hash: warn;
- videos: frames (after the fps change musubi makes when source_fps is set) against target_frames /
  frame_extraction / max_frames, the windows each clip yields (VideoDataset.retrieve_latent_cache_batches);
  clips that yield none: warn, or block when no clip yields any;
- sample prompts: missing start/end/control images (warn here; the start refuses them), the dataset's
  trigger word missing from a prompt: warn.
Then the bucket preview (buckets.py) of what is left, and the time estimate (estimate.py).
The start path runs the same report (`ensure_startable`): any blocking finding refuses the start with
the whole list in `details.findings`.
"""

from __future__ import annotations

from pathlib import Path

from ..datasets import storage
from ..errors import ValidationError
from . import buckets, config, dataset_checks, dataset_source, estimate, media_info, task_types
from .dataset_checks import Finding
from .dataset_source import DatasetSource

# Aspect ratios this far apart (relative) mean a visibly cropped control image.
ASPECT_TOLERANCE = 0.02
VAE_FRAME_STRIDE = 4


def rounded_target_frames(target_frames) -> list[int]:
    """musubi's VideoDataset: unique, sorted, each rounded down to 4N+1."""
    return sorted({(f - 1) // VAE_FRAME_STRIDE * VAE_FRAME_STRIDE + 1 for f in target_frames or [1]})


def frames_read(frames: int, source_fps: float | None, target_fps: float | None, end: int | None) -> int:
    """Frames musubi's load_video keeps: every frame, or (source_fps set) one per target-fps tick, up to `end`."""
    if not source_fps or not target_fps:
        return min(frames, end) if end is not None else frames
    delta = target_fps / source_fps
    kept, fraction, previous = 0, 0.0, -1
    for _ in range(frames):  # the same float accumulation as media_utils.load_video
        index = int(fraction)
        fraction += delta
        if index == previous:
            continue
        previous = index
        if end is not None and index >= end:
            break
        kept += 1
    return kept


def windows(frame_count: int, d: dict) -> list[tuple[int, int]]:
    """(start, frames) of each clip musubi cuts from a video of `frame_count` frames."""
    mode = d.get("frame_extraction") or "head"
    targets = rounded_target_frames(d.get("target_frames"))
    if mode == "uniform" and (d.get("frame_sample") or 1) == 1:
        mode = "head"
    out: list[tuple[int, int]] = []
    if mode == "head":
        out = [(0, t) for t in targets if frame_count >= t]
    elif mode == "chunk":
        out = [(i, t) for t in targets for i in range(0, frame_count, t) if i + t <= frame_count]
    elif mode == "slide":
        stride = d.get("frame_stride") or 1
        out = [(i, t) for t in targets if frame_count >= t for i in range(0, frame_count - t + 1, stride)]
    elif mode == "uniform":
        n = d.get("frame_sample") or 1
        for t in targets:
            if frame_count >= t:
                last = frame_count - t
                # np.linspace(0, last, n, dtype=int): evenly spaced, truncated toward zero, ends included
                step = last / (n - 1) if n > 1 else 0
                out += [(last if k == n - 1 and n > 1 else int(k * step), t) for k in range(n)]
    elif mode == "full":
        t = min(frame_count, d.get("max_frames") or frame_count)
        out = [(0, (t - 1) // VAE_FRAME_STRIDE * VAE_FRAME_STRIDE + 1)]
    # A window's cache file is named by its start and length, so repeats (uniform sampling of a clip no
    # longer than the window: linspace(0, 0, n)) are one file, one item.
    return sorted(set(out))


def _stat(listing: dict, path: Path) -> tuple[int, int] | None:
    entry = listing.get(path.name)
    return (entry.size, entry.mtime_ns) if entry else None


def _image_findings(kept: list[Path], selector: buckets.Selector, out: list[Finding],
                    listing: dict) -> dict[str, tuple]:
    sizes: dict[str, tuple] = {}
    unreadable, upscaled, own, tiny = [], [], [], []
    resos = selector.resolutions()
    by_size: dict[tuple, tuple] = {}   # datasets repeat a few sizes: one bucket lookup per size
    worst = 1.0
    for p in kept:
        info = media_info.info(p, "image", _stat(listing, p))
        if info.error:
            unreadable.append(p.name)
            continue
        sizes[p.name] = info.size
        if info.size not in by_size:
            by_size[info.size] = selector.bucket_for(info.size, resos)
        bw, bh = by_size[info.size]
        if bw <= 0 or bh <= 0:
            tiny.append(p.name)
            continue
        if selector.enable_bucket and selector.no_upscale and info.width * info.height <= selector.area:
            if (bw, bh) != tuple(selector.resolution):
                own.append(p.name)
            continue
        scale = max(bw / info.width, bh / info.height)
        if scale > 1:
            upscaled.append(p.name)
            worst = max(worst, scale)
    if unreadable:
        out.append(Finding("file_unreadable", "block", unreadable,
                           f"{len(unreadable)} file(s) cannot be read as images; musubi-tuner stops caching on them"))
    if tiny:
        out.append(Finding("image_too_small", "block", tiny,
                           f"{len(tiny)} image(s) are smaller than one bucket step ({selector.step} px)",
                           {"step": selector.step}))
    if upscaled:
        out.append(Finding("image_upscaled", "warn", upscaled,
                           f"{len(upscaled)} image(s) are smaller than their bucket and are enlarged (up to "
                           f"{worst:.1f}x)", {"factor": round(worst, 2)}))
    if own:
        out.append(Finding("image_own_bucket", "info", own,
                           f"{len(own)} image(s) are smaller than the resolution and keep their own size "
                           "(bucket_no_upscale): they train in their own buckets"))
    for f in out:
        if f.code in ("file_unreadable", "image_too_small"):
            for name in f.files:
                sizes.pop(name, None)
    return sizes


def _one_cache_each(sizes: dict[str, tuple], out: list[Finding]) -> dict[str, tuple]:
    """musubi names a latent cache `<name without extension>_<W>x<H>_<arch>` (get_latent_cache_path):
    `a.png` and `a.jpg` of one size write the same file, and only one of them is trained."""
    kept: dict[tuple, str] = {}
    clashes: list[str] = []
    for name in sorted(sizes):
        key = (Path(name).stem, sizes[name])
        if key in kept:
            clashes += [kept[key], name]
        else:
            kept[key] = name
    if clashes:
        names = sorted(set(clashes))
        out.append(Finding("cache_name_clash", "warn", names,
                           f"{len(names)} files share a name (without extension) and a size; musubi-tuner caches "
                           "them under one file name, so only one of each group is trained. Rename them"))
    return {name: size for (_, size), name in kept.items()}


def _control_findings(source: DatasetSource, sizes: dict[str, tuple], d: dict, ttype,
                      out: list[Finding]) -> dict[str, int]:
    targets = sorted(sizes)
    listing = dataset_checks.scan(source.control_dir)
    control_names = dataset_checks.media_names(source.control_dir, "image", listing)
    matches, _, _ = dataset_checks.match_controls(targets, control_names)
    unreadable, mismatched = [], []
    for target, controls in matches.items():
        tw, th = sizes[target]
        for c in controls:
            info = media_info.info(source.control_dir / c, "image", _stat(listing, source.control_dir / c))
            if info.error:
                unreadable.append(c)
            elif not d.get("no_resize_control") and abs((info.width / info.height) / (tw / th) - 1) > ASPECT_TOLERANCE:
                mismatched.append(target)
    if unreadable:
        out.append(Finding("file_unreadable", "block", sorted(unreadable),
                           f"{len(unreadable)} control image(s) cannot be read; musubi-tuner stops caching on them",
                           {"folder": "control"}))
    if mismatched:
        names = sorted(set(mismatched))
        out.append(Finding("control_size_mismatch", "warn", names,
                           f"{len(names)} image(s) have a control image of another shape; it is cropped to the "
                           "target's bucket"))
    return {t: len(c) for t, c in matches.items()}


def _video_findings(kept: list[Path], d: dict, ttype, out: list[Finding],
                    listing: dict) -> tuple[list[buckets.Item], list[dict]]:
    items, clips, none, unreadable = [], [], [], []
    targets = rounded_target_frames(d.get("target_frames"))
    mode = d.get("frame_extraction") or "head"
    end = max(targets) if mode == "head" or (mode == "uniform" and (d.get("frame_sample") or 1) == 1) else None
    source_fps = d.get("source_fps")
    for p in kept:
        info = media_info.info(p, "video", _stat(listing, p))
        if info.error:
            unreadable.append(p.name)
            continue
        used = frames_read(info.frames or 0, source_fps, ttype.video_fps if source_fps else None, end)
        cut = windows(used, d)
        clips.append({"name": p.name, "frames": info.frames, "fps": info.fps, "frames_used": used,
                      "windows": len(cut), "window_frames": sorted({f for _, f in cut})})
        if not cut:
            none.append(p.name)
        items += [buckets.Item(p.name, info.size, frames=f) for _, f in cut]
    if unreadable:
        out.append(Finding("file_unreadable", "block", unreadable,
                           f"{len(unreadable)} file(s) cannot be read as videos; musubi-tuner stops caching on them"))
    if none:
        every = len(none) == len(clips)
        out.append(Finding("video_no_window", "block" if every else "warn", none,
                           f"{len(none)} video(s) are shorter than every target_frames value ({min(targets)}) and "
                           "yield no clip" + ("; nothing is left to train on" if every else ""),
                           {"min_frames": min(targets)}))
    return items, clips


def _duplicates(files: list[Path], out: list[Finding], listing: dict) -> None:
    by_hash: dict[str, list[str]] = {}
    for p in files:
        h = media_info.content_hash(p, _stat(listing, p))
        if h:
            by_hash.setdefault(h, []).append(p.name)
    groups = [sorted(g) for g in by_hash.values() if len(g) > 1]
    if groups:
        names = sorted(n for g in groups for n in g)
        out.append(Finding("duplicate_content", "warn", names,
                           f"{len(names)} files are copies of each other ({len(groups)} group(s)): they train "
                           "several times", {"groups": groups[:dataset_checks.MAX_LISTED]}))


def _sample_findings(resolved: dict, trigger: str | None, out: list[Finding]) -> None:
    prompts = resolved["samples"].get("prompts") or []
    missing: list[str] = []
    for prompt in prompts:
        for key in dataset_checks.SAMPLE_IMAGE_KEYS:
            value = prompt.get(key)
            for path in value if isinstance(value, list) else [value] if value else []:
                if not Path(path).is_file():
                    missing.append(path)
    if missing:
        out.append(Finding("sample_image_missing", "warn", missing, "Sample prompt images not found",
                           where="samples.prompts"))
    if trigger:
        lacking = [i + 1 for i, p in enumerate(prompts) if trigger.lower() not in (p.get("prompt") or "").lower()]
        if lacking:
            out.append(Finding("sample_trigger_missing", "warn", [],
                               f"Sample prompt(s) {', '.join(map(str, lacking))} do not contain the trigger word "
                               f"'{trigger}'", {"trigger": trigger, "prompts": lacking}, where="samples.prompts"))


def build(resolved: dict, source: DatasetSource, *, trigger: str | None = None, store=None,
          gpu: str | None = None) -> dict:
    """The report for a resolved config (config.resolve) over `source` (module docstring)."""
    ttype = task_types.get(resolved["task_type"])
    d, t = resolved["dataset"], resolved["training"]
    listing = dataset_checks.scan(source.media_dir)   # one listing for every check below
    found = dataset_checks.findings(source, d["caption_extension"], ttype.max_controls, listing)
    video = source.type == "video"
    kind = "video" if video else "image"
    files = [source.media_dir / n for n in dataset_checks.media_names(source.media_dir, kind, listing)]
    captioned = dataset_checks.caption_files(source.media_dir, d["caption_extension"], listing)
    kept = [p for p in files if p.stem in captioned]
    selector = buckets.Selector(tuple(d["resolution"]), bool(d["enable_bucket"]), bool(d["bucket_no_upscale"]),
                                ttype.bucket_step)
    clips: list[dict] = []
    if video:
        items, clips = _video_findings(kept, d, ttype, found, listing)
    else:
        sizes = _image_findings(kept, selector, found, listing)
        controls = _control_findings(source, sizes, d, ttype, found) if source.type == "image_control" else {}
        items = [buckets.Item(n, s, controls=controls.get(n, 0)) for n, s in _one_cache_each(sizes, found).items()]
    _duplicates(files, found, listing)
    _sample_findings(resolved, trigger, found)
    preview = buckets.preview(items, selector, batch_size=d["batch_size"], num_repeats=d["num_repeats"],
                              grad_accum=t.get("gradient_accumulation_steps") or 1,
                              epochs=t.get("max_train_epochs"), max_steps=t.get("max_train_steps"),
                              processes=len(resolved.get("gpus") or [0]))
    if not items and files:
        found.append(Finding("nothing_to_train", "block", [], "Nothing in the dataset would be trained on"))
    elif preview["buckets"] and any(b["smaller_than_batch"] for b in preview["buckets"]):
        small = [b for b in preview["buckets"] if b["smaller_than_batch"]]
        found.append(Finding("bucket_smaller_than_batch", "info", sorted(n for b in small for n in b["files"]),
                             f"{len(small)} bucket(s) hold fewer items than the batch size ({preview['batch_size']}): "
                             "their batches are smaller", {"batch_size": preview["batch_size"], "buckets": len(small)}))
    order = {"block": 0, "warn": 1, "info": 2}
    found.sort(key=lambda f: order[f.severity])
    report = {
        "dataset": {"id": source.id, "name": source.name, "type": source.type, "files": len(files),
                    "kept": len(kept)},
        "findings": [f.public() for f in found],
        "blocking": sum(1 for f in found if f.severity == "block"),
        "buckets": preview,
        "videos": clips,
    }
    report["estimate"] = estimate.estimate(store, resolved, preview, source.type, gpu) if store is not None else None
    return report


def report(store, layout, raw: dict) -> dict:
    """POST /api/tasks/preflight: the report for a (possibly unsaved) task config."""
    raw = dict(raw)
    raw.setdefault("name", "preflight")
    cfg = config.check(raw)
    source = dataset_source.lookup(store, layout, cfg.get("dataset_id"))
    resolved = config.resolve(cfg)
    return build(resolved, source, trigger=storage.trigger_word(store, source.id), store=store,
                 gpu=estimate.gpu_name(cfg["gpus"]))


def ensure_startable(result: dict) -> None:
    """Refuse the start when the report has a blocking finding, with every finding listed."""
    blocking = [f for f in result["findings"] if f["severity"] == "block"]
    if blocking:
        first = blocking[0]
        more = f" (+{len(blocking) - 1} more problem(s))" if len(blocking) > 1 else ""
        raise ValidationError(f"{first['message']}{more}.", field="dataset_id", code="preflight_blocked",
                              details={"findings": blocking, "files": first["files"], "count": first["count"]})


def summary(result: dict) -> dict:
    """What a run keeps of the report, to compare with what musubi actually did (accounting.py)."""
    b = result["buckets"]
    return {"num_train_items": b["num_train_items"], "batches_per_epoch": b["batches_per_epoch"],
            "batches_per_process": b["batches_per_process"], "processes": b["processes"],
            "total_steps": b["total_steps"], "epochs": b["epochs"],
            "buckets": [{"key": r["key"], "count": r["count"]} for r in b["buckets"]],
            "estimate": result.get("estimate")}

