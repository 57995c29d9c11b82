"""What a media file is: size and, for videos, duration/fps/frames; and whether it is readable.

Images use Pillow; videos use PyAV (`av`, an FFmpeg binding shipped as a wheel, so no ffmpeg
install is needed). Every reader error becomes `MediaError` with a sentence for the user, so one
corrupt file is reported and skipped, never fatal.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from .media_types import kind_of

# Images are checked on several threads at once (imports and rescans on the job pool's threads, requests
# on theirs), and warnings.catch_warnings() swaps the process-wide filter list, so one thread could
# restore it under another. The bomb warning (between Pillow's limit and twice it) is never wanted here:
# above twice it, Pillow raises DecompressionBombError, which is reported.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


class MediaError(Exception):
    """The file cannot be read as the media its extension claims."""


@dataclass
class MediaInfo:
    kind: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    fps: float | None = None
    frames: int | None = None

    def as_row(self) -> dict:
        return {"width": self.width, "height": self.height, "duration": self.duration, "fps": self.fps,
                "frames": self.frames}


def _reason(exc: Exception, source) -> str:
    """The decoder's reason without the file's path: callers name the file as the user knows it, and
    the path here is often ours (an upload's staging copy, an import's temp file) and means nothing."""
    if isinstance(exc, UnidentifiedImageError):
        return "not a known image format"
    text = str(exc)
    if isinstance(source, (str, Path)):
        for form in sorted({str(source), Path(source).as_posix(), repr(str(source))}, key=len, reverse=True):
            text = text.replace(form, "")
        text = text.replace("''", "").replace('""', "").strip(" :")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _image_error(exc: Exception, source) -> MediaError:
    if isinstance(exc, Image.DecompressionBombError):
        return MediaError("The image is too large to open safely.")
    return MediaError(f"Not a readable image ({_reason(exc, source)}).")


def image_info(source: Path | BinaryIO, *, verify: bool = False) -> MediaInfo:
    """Header-only by default (fast, for rescans); `verify` decodes enough to catch junk and truncation."""
    try:
        with Image.open(source) as img:
            size = img.size
            fmt = img.format
            if verify:
                if fmt == "JPEG":
                    # Draft mode decodes at 1/8 scale: catches truncated JPEGs at a fraction of the cost.
                    img.draft("RGB", (max(1, size[0] // 8), max(1, size[1] // 8)))
                img.load()
    except Exception as exc:  # noqa: BLE001 - any decoder error means "corrupt", whatever its class
        raise _image_error(exc, source) from exc
    return MediaInfo(kind="image", width=size[0], height=size[1])


def video_info(path: Path, *, verify: bool = False) -> MediaInfo:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError("The file has no video stream.")
            stream = container.streams.video[0]
            ctx = stream.codec_context
            fps = float(stream.average_rate) if stream.average_rate else None
            if stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            elif container.duration:
                duration = container.duration / 1_000_000
            else:
                duration = None
            frames = stream.frames or (round(duration * fps) if duration and fps else None)
            width, height = ctx.width, ctx.height
            if verify:
                next(container.decode(stream))
    except MediaError:
        raise
    except StopIteration:
        raise MediaError("The video has no frames.") from None
    except Exception as exc:  # noqa: BLE001 - FFmpeg raises many error classes; all mean "unreadable"
        raise MediaError(f"Not a readable video ({_reason(exc, path)}).") from exc
    return MediaInfo(kind="video", width=width, height=height, duration=duration, fps=fps, frames=frames)


def probe(path: Path, *, verify: bool = False) -> MediaInfo:
    kind = kind_of(path.name)
    if kind == "image":
        return image_info(path, verify=verify)
    if kind == "video":
        return video_info(path, verify=verify)
    raise MediaError("Not an image or video file.")


def first_frame(path: Path) -> Image.Image:
    """The first decodable frame of a video as a Pillow image (for its thumbnail)."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                return frame.to_image()
    except Exception as exc:  # noqa: BLE001
        raise MediaError(f"Not a readable video ({_reason(exc, path)}).") from exc
    raise MediaError("The video has no frames.")
