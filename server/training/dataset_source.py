"""The app dataset a task trains on: its type and the folders musubi reads.

The one function here is the seam to the datasets feature: folder paths come from
`server.datasets.storage.dataset_dirs` (the single owner of that layout, see docs/ARCHITECTURE.md);
the row is read straight from the `datasets` table so training does not depend on the datasets
package's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


def _dirs(layout, dataset_id: str) -> tuple[Path, Path]:
    try:
        from ..datasets.storage import dataset_dirs
    except ImportError:  # the datasets package is optional for this module: same layout by hand
        root = layout.datasets / dataset_id
        return root / "media", root / "control"
    dirs = dataset_dirs(layout, dataset_id)
    return dirs.media, dirs.control


def lookup(store, layout, dataset_id: str | None) -> DatasetSource:
    """The dataset, or ValidationError(field="dataset_id") when it is missing or in the trash."""
    if not dataset_id:
        raise ValidationError("Choose the dataset to train on.", field="dataset_id")
    row = None
    if "datasets" in store.db.table_names():
        row = store.db.execute("SELECT id, name, type, trashed_at FROM datasets WHERE id = ?",
                               [dataset_id]).fetchone()
    if row is None:
        raise ValidationError(f"Dataset {dataset_id} does not exist.", field="dataset_id",
                              code="dataset_not_found")
    if row[3]:
        raise ValidationError(f"Dataset '{row[1]}' is in the trash.", field="dataset_id", code="dataset_trashed")
    try:
        media, control = _dirs(layout, dataset_id)
    except Exception as exc:  # noqa: BLE001 - a malformed id surfaces as the field to fix
        raise ValidationError(f"Dataset {dataset_id} cannot be used: {exc}", field="dataset_id") from None
    return DatasetSource(id=row[0], name=row[1], type=row[2], media_dir=media, control_dir=control)
