"""Reading items as pictures: images (EXIF-rotated, alpha on white) and evenly spaced video frames.

Backends see every item as one or more RGB PIL images; this module is the only place that opens
media files. Video decoding uses PyAV, imported lazily so image-only installs still work.
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

from PIL import Image, ImageOps

from .base import Item, ItemError


def open_rgba(path: Path) -> Image.Image:
    """The image upright (EXIF orientation applied) as RGBA, fully decoded so the file is closed."""
    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            return img.convert("RGBA")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        # Pillow raises several types for truncated or unknown files; the user only needs the gist.
        raise ItemError(f"Cannot open image {path.name}: {exc}", code="bad_image") from None


def on_white(img: Image.Image) -> Image.Image:
    """Transparent pixels become white, as the WD taggers were trained and as most APIs expect."""
    if img.mode != "RGBA":
        img = img.convert("RGBA")
    canvas = Image.new("RGBA", img.size, (255, 255, 255, 255))
    canvas.alpha_composite(img)
    return canvas.convert("RGB")


def has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)


_SWAPS_AXES = (5, 6, 7, 8)   # EXIF orientations that turn the picture by 90°
# A JPEG is decoded at no less than DRAFT x the model's size (1: the largest DCT reduction that keeps
# `size`; 2 would track the full decode more closely for ~40 % more decoding work).
DRAFT = 1


def open_square(path: Path, size: int) -> Image.Image:
    """The picture a square model sees: upright, alpha on white, padded to a white square and scaled to
    `size` x `size` — the same as `on_white(open_rgba(path))` padded and then scaled, for a fraction of
    the work. A JPEG is decoded at a reduced scale (libjpeg's DCT scaling, never below `size`); only a
    picture with transparency is converted to RGBA and composited (at the decoded size, so a hidden
    colour never bleeds in); and the picture alone is scaled, straight onto the rows and columns it
    covers in the padded-then-scaled square (Pillow's resize box takes the fractional source window),
    so it lands where the full path puts it, not rounded to a whole pixel."""
    try:
        with Image.open(path) as img:
            full_w, full_h = img.size
            if img.getexif().get(0x0112) in _SWAPS_AXES:
                full_w, full_h = full_h, full_w
            if img.format == "JPEG":
                longest = max(img.size)
                img.draft("RGB", (img.width * DRAFT * size // longest, img.height * DRAFT * size // longest))
            img = ImageOps.exif_transpose(img)
            img = on_white(img) if has_alpha(img) else img.convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ItemError(f"Cannot open image {path.name}: {exc}", code="bad_image") from None
    side = max(full_w, full_h)
    scale = size / side   # full-size source pixels -> output pixels

    def window(full: int, decoded: int) -> tuple[int, int, float, float]:
        """Output pixels [o0, o1) wholly inside the picture on one axis, and their source window."""
        pad = (side - full) // 2
        o0, o1 = math.ceil(pad * scale), math.floor((pad + full) * scale)
        ratio = decoded / full
        return o0, o1, max(0.0, (o0 / scale - pad) * ratio), min(float(decoded), (o1 / scale - pad) * ratio)

    x0, x1, sx0, sx1 = window(full_w, img.width)
    y0, y1, sy0, sy1 = window(full_h, img.height)
    square = Image.new("RGB", (size, size), (255, 255, 255))
    if x1 > x0 and y1 > y0:
        square.paste(img.resize((x1 - x0, y1 - y0), Image.Resampling.BICUBIC, box=(sx0, sy0, sx1, sy1)), (x0, y0))
    return square


def video_frames(path: Path, count: int) -> list[Image.Image]:
    """`count` frames spread evenly over the video (never the very first/last, which are often black)."""
    try:
        import av  # noqa: PLC0415 - optional heavy dependency, only needed for video items
    except ImportError:
        raise ItemError("Video support needs the 'av' package (PyAV).", code="video_unsupported") from None
    count = max(1, int(count))
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            duration = _duration_seconds(container, stream)
            if not duration:
                return _first_frames(container, stream, count)
            targets = [duration * (i + 1) / (count + 1) for i in range(count)]
            return [_frame_at(container, stream, t) for t in targets]
    except ItemError:
        raise
    except (av.error.FFmpegError, IndexError, OSError) as exc:
        raise ItemError(f"Cannot read video {path.name}: {exc}", code="bad_video") from None


def _duration_seconds(container, stream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000  # container durations are in AV_TIME_BASE (microseconds)
    return 0.0


def _frame_at(container, stream, seconds: float) -> Image.Image:
    # Seek lands on the keyframe before `seconds`; decode forward to the first frame at or after it.
    container.seek(int(seconds / stream.time_base), stream=stream, backward=True, any_frame=False)
    last = None
    for frame in container.decode(stream):
        last = frame
        if frame.pts is not None and float(frame.pts * stream.time_base) >= seconds:
            break
    if last is None:
        raise ItemError("The video has no decodable frame near "
                        f"{seconds:.1f}s.", code="bad_video")
    return last.to_image().convert("RGB")


def _first_frames(container, stream, count: int) -> list[Image.Image]:
    # Without a known duration (some webm/mkv) we cannot seek meaningfully: take the first frames.
    frames = []
    for frame in container.decode(stream):
        frames.append(frame.to_image().convert("RGB"))
        if len(frames) >= count:
            break
    if not frames:
        raise ItemError("The video has no decodable frame.", code="bad_video")
    return frames


def item_pictures(item: Item, video_count: int) -> list[Image.Image]:
    """An item as RGB pictures: one for an image, `video_count` frames for a video."""
    if item.kind == "video":
        return video_frames(item.path, video_count)
    return [on_white(open_rgba(item.path))]


def downscale(img: Image.Image, max_side: int) -> Image.Image:
    if max_side and max(img.size) > max_side:
        img = img.copy()
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return img


def jpeg_data_url(img: Image.Image, quality: int = 90) -> str:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def sample_image(size: int = 256) -> Image.Image:
    """A small generated picture for the settings "test" button when no dataset image is given."""
    from PIL import ImageDraw  # noqa: PLC0415

    img = Image.new("RGB", (size, size), (70, 130, 200))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, size * 3 // 4, size, size], fill=(60, 160, 70))
    r = size // 5
    draw.ellipse([size // 2 - r, size // 3 - r, size // 2 + r, size // 3 + r], fill=(240, 40, 40))
    return img
