"""The app dataset a task trains on: its type and the folders musubi reads.

The one function here is the seam to the datasets feature, which owns both facts it reads:
the row (`storage.find`) and the folders (`storage.dataset_dirs`, the single owner of that layout,
see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..datasets import storage
from ..errors import ValidationError
from ..media_types import MEDIA_EXTS


@dataclass(frozen=True)
class DatasetSource:
    id: str
    name: str
    type: str           # image | video | image_control
    media_dir: Path
    control_dir: Path

    def media_files(self) -> list[Path]:
        kind = "video" if self.type == "video" else "image"
        if not self.media_dir.is_dir():
            return []
        return sorted(p for p in self.media_dir.iterdir()
                      if p.is_file() and p.suffix.lower() in MEDIA_EXTS[kind])


def lookup(store, layout, dataset_id: str | None) -> DatasetSource:
    """The dataset, or ValidationError(field="dataset_id") when it is missing or in the trash."""
    if not dataset_id:
        raise ValidationError("Choose the dataset to train on.", field="dataset_id")
    row = storage.find(store, dataset_id)
    if row is None:
        raise ValidationError(f"Dataset {dataset_id} does not exist.", field="dataset_id",
                              code="dataset_not_found")
    if row["trashed_at"]:
        raise ValidationError(f"Dataset '{row['name']}' is in the trash.", field="dataset_id", code="dataset_trashed")
    try:
        dirs = storage.dataset_dirs(layout, dataset_id)
    except Exception as exc:  # noqa: BLE001 - a malformed id surfaces as the field to fix
        raise ValidationError(f"Dataset {dataset_id} cannot be used: {exc}", field="dataset_id") from None
    return DatasetSource(id=row["id"], name=row["name"], type=row["type"], media_dir=dirs.media,
                         control_dir=dirs.control)
