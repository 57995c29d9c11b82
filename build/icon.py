"""The program icon, drawn here so it needs no binary file in the repository.

A rounded square in the UI's accent colour with a falling loss curve (what the app shows while it
trains) and the final point marked. `write_ico(path)` stores every size Windows asks for (Explorer's
views, the taskbar, Alt+Tab), each drawn at that size rather than scaled down from one bitmap.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ACCENT = (0x4F, 0x6B, 0xED, 255)  # --accent in ui/src/app.css
WHITE = (255, 255, 255, 255)
SIZES = (16, 24, 32, 48, 64, 128, 256)
# The curve in a 0..1 box: a steep fall that levels out, like a training loss.
CURVE = [(0.18, 0.22), (0.30, 0.52), (0.42, 0.64), (0.56, 0.70), (0.70, 0.73), (0.82, 0.745)]


def draw(size: int) -> Image.Image:
    scale = 4  # draw large and reduce: smooth edges at 16 px too
    big = size * scale
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, big - 1, big - 1), radius=int(big * 0.22), fill=ACCENT)
    points = [(x * big, y * big) for x, y in CURVE]
    width = max(scale * 2, int(big * 0.085))
    d.line(points, fill=WHITE, width=width, joint="curve")
    for x, y in (points[0], points[-1]):
        r = width * 0.9
        d.ellipse((x - r, y - r, x + r, y + r), fill=WHITE)
    return img.resize((size, size), Image.LANCZOS)


def write_ico(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    largest = draw(SIZES[-1])
    largest.save(path, format="ICO", sizes=[(s, s) for s in SIZES],
                 append_images=[draw(s) for s in SIZES[:-1]])
    return path
