"""Real media files for training tests: PNGs and videos whose headers say what the test needs."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image


def png(path: Path, size: tuple[int, int] = (64, 64), color: tuple[int, int, int] = (40, 80, 120)) -> Path:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    path.write_bytes(buf.getvalue())
    return path


def video(path: Path, frames: int = 10, fps: int = 24, size: tuple[int, int] = (64, 48), shade: int = 0) -> Path:
    """An MPEG-4 clip of `frames` frames: its header states the count and the rate."""
    import av
    import numpy as np

    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((size[1], size[0], 3), (shade + i * 7) % 256, np.uint8),
                                               format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
