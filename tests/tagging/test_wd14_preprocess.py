"""WD14's fast image path (media.open_square: reduced-scale JPEG decode, alpha handled only when there
is alpha, scaling before padding) gives the model the same input as the full-size path it replaces
(open as RGBA, composite on white, pad, scale), within a tolerance that resampling order explains.

Why these bounds: the fast path puts the picture on exactly the output pixels the full path does
(sub-pixel window), so what differs is (1) the one row/column at each seam with the white padding,
which the full path blends and the fast path leaves white (up to ~110 levels, but one line of 448),
and (2) for a JPEG, libjpeg's DCT-scaled decode (a box-like 2x/4x reduction) before the bicubic
instead of one bicubic from full size: it softens hard edges a little differently (measured on these
pictures: mean 0.2-1.2 levels of 255, 99th percentile up to 10). So: a mean under 1.5 levels and 99 %
of values within 12 levels. A wrong colour order, a lost EXIF turn, an unflattened alpha, a picture
shifted by a few pixels or mis-scaled each break those bounds many times over (checked below with
deliberate mistakes)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from server.tagging import media
from server.tagging.wd14 import preprocess

SIZE = 448


def picture(w: int, h: int) -> Image.Image:
    """Smooth shapes and some texture, like a photo; not noise (which no resampler preserves)."""
    img = Image.effect_noise((w // 8, h // 8), 60).convert("RGB").resize((w, h), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    draw.ellipse([w // 4, h // 4, w // 2, h // 2], fill=(220, 30, 30))
    draw.rectangle([w * 2 // 3, h // 8, w - 10, h // 3], fill=(20, 40, 200))
    draw.line([0, h - 1, w - 1, 0], fill=(0, 0, 0), width=5)
    return img


def full_path(path) -> np.ndarray:
    return preprocess(media.on_white(media.open_rgba(path)), SIZE)


def fast_path(path) -> np.ndarray:
    return preprocess(media.open_square(path, SIZE), SIZE)


def close_enough(a: np.ndarray, b: np.ndarray) -> bool:
    d = np.abs(a - b)
    return a.shape == b.shape and d.mean() < 1.5 and np.percentile(d, 99) <= 12


CASES = [((1024, 768), "jpg"), ((768, 1024), "jpg"), ((1216, 832), "jpg"), ((2000, 1000), "jpg"),
         ((300, 200), "jpg"), ((448, 448), "png"), ((1024, 768), "png-alpha"), ((640, 960), "png-alpha"),
         ((900, 600), "gif")]


@pytest.mark.parametrize("size,kind", CASES, ids=[f"{w}x{h}-{k}" for (w, h), k in CASES])
def test_fast_path_gives_the_model_the_same_input(tmp_path, size, kind):
    img = picture(*size)
    path = tmp_path / f"p.{kind.split('-')[0]}"
    if kind == "png-alpha":
        rgba = img.convert("RGBA")
        alpha = Image.new("L", size, 255)
        ImageDraw.Draw(alpha).rectangle([0, 0, size[0] // 3, size[1] // 3], fill=0)   # a transparent corner
        ImageDraw.Draw(alpha).rectangle([size[0] // 2, 0, size[0] - 1, size[1] // 4], fill=128)
        rgba.putalpha(alpha)
        # what hides under transparency must not show: paint it green
        rgba.paste((0, 255, 0, 0), (0, 0, size[0] // 3, size[1] // 3))
        rgba.save(path)
    elif kind == "gif":
        img.convert("P", palette=Image.Palette.ADAPTIVE).save(path, transparency=0)
    else:
        img.save(path, quality=90)
    assert close_enough(fast_path(path), full_path(path))


def test_exif_rotation_is_kept(tmp_path):
    path = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6   # stored sideways, shown rotated 90°
    picture(1200, 700).save(path, quality=90, exif=exif)
    fast, full = fast_path(path), full_path(path)
    assert close_enough(fast, full)
    assert not close_enough(np.rot90(fast), full)   # the bound does notice a picture turned wrong


def test_the_bounds_catch_real_mistakes(tmp_path):
    path = tmp_path / "p.png"
    rgba = picture(1024, 768).convert("RGBA")
    rgba.paste((0, 255, 0, 0), (0, 0, 400, 300))
    rgba.save(path)
    full = full_path(path)
    fast = fast_path(path)
    assert close_enough(fast, full)
    assert not close_enough(fast[:, :, ::-1], full)                                   # RGB instead of BGR
    assert not close_enough(preprocess(Image.open(path).convert("RGB"), SIZE), full)  # alpha not on white
    assert not close_enough(np.roll(fast, 6, axis=0), full)                            # picture shifted
    stretched = media.on_white(media.open_rgba(path)).resize((SIZE, SIZE), Image.Resampling.BICUBIC)
    assert not close_enough(preprocess(stretched, SIZE), full)                         # stretched, not padded


def test_small_pictures_are_scaled_up_like_before(tmp_path):
    path = tmp_path / "small.png"
    picture(200, 120).save(path)
    assert close_enough(fast_path(path), full_path(path))
