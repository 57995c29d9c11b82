"""The dataset area's errors, each with a machine-readable code the UI can translate."""

from __future__ import annotations

from ..errors import ApiError, Conflict, NotFound, ValidationError


class DatasetNotFound(NotFound):
    code = "dataset_not_found"

    def __init__(self, dataset_id: str):
        super().__init__(f"There is no dataset with id {dataset_id!r}.", details={"dataset_id": dataset_id})


class ItemNotFound(NotFound):
    code = "item_not_found"

    def __init__(self, what):
        super().__init__(f"The item {what!r} is not in this dataset (it may have been deleted).",
                         details={"item": what})


class ItemMissing(NotFound):
    """The index knew the item but its file is gone from disk (deleted by another tool)."""

    code = "item_missing"

    def __init__(self, name: str):
        super().__init__(f"The file {name!r} no longer exists on disk; the list has been refreshed.",
                         details={"name": name})


class BadName(ValidationError):
    code = "bad_name"

    def __init__(self, name: str, field: str = "name"):
        super().__init__(f"{name!r} is not an allowed file name here.", field=field, details={"name": name})


class CaptionChanged(Conflict):
    code = "caption_changed"

    def __init__(self, name: str, current: str | None):
        super().__init__(f"The caption of {name!r} was changed elsewhere; reload it before saving.",
                         details={"name": name, "current": current})


class DatasetTrashed(Conflict):
    code = "dataset_trashed"

    def __init__(self, dataset_id: str):
        super().__init__("This dataset is in the trash; restore it first.", details={"dataset_id": dataset_id})


__all__ = ["ApiError", "BadName", "CaptionChanged", "Conflict", "DatasetNotFound", "DatasetTrashed",
           "ItemMissing", "ItemNotFound", "NotFound", "ValidationError"]
