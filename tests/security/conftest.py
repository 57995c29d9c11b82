"""Helpers for the security tests: real apps in tmp dirs (fixtures from tests/conftest.py)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image


def png_bytes(color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buf, "PNG")
    return buf.getvalue()


def add_dataset(svc, dataset_id: str = "ds_5ec0000d", type_: str = "image") -> Path:
    """A dataset row + folder with one real image and its caption, indexed by a rescan."""
    from server.datasets import items

    now = time.time()
    svc.store.db["datasets"].insert({"id": dataset_id, "name": "Sec", "type": type_, "created_at": now,
                                     "updated_at": now, "trashed_at": None, "trash_path": None}, alter=True)
    root = svc.layout.datasets / dataset_id
    for slot in ("media", "control"):
        (root / slot).mkdir(parents=True, exist_ok=True)
    (root / "media" / "a.png").write_bytes(png_bytes())
    (root / "media" / "a.txt").write_text("a caption", encoding="utf-8")
    items.rescan(svc, dataset_id)
    return root


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder outside the data dir holding a 'secret' file an escape would reach."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "secret.png").write_bytes(png_bytes((1, 2, 3)))
    (d / "secret.txt").write_text("TOP-SECRET-OUTSIDE", encoding="utf-8")
    return d
