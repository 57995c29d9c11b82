"""What every tagging backend is: the Item it captions, the Backend base class and its errors.

A backend turns one image or video into a caption (a comma-separated tag list or a sentence).
Its life is `prepare()` (make sure files exist, maybe download them), `load()` (open the model or
check the connection), `caption(item)` / `caption_many(items)`, then `close()`. The job only ever
talks to this interface, so a new local model (JoyCaption, Florence-2...) is one more module plus
a line in the registry.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Iterator

from ..errors import ApiError
from ..media_types import media_kind

log = logging.getLogger(__name__)

OUTPUT_KINDS = ("tags", "text")

# report(done, total, message): how prepare() tells the caller about long work (downloads).
Reporter = Callable[[int, int, str], None]


class TaggingError(ApiError):
    """A backend could not be set up or used at all (bad settings, missing model, unreachable server)."""

    status = 422
    code = "tagging_error"


class ItemError(Exception):
    """One item failed; the run goes on and lists it. `message` is meant for the user."""

    def __init__(self, message: str, *, code: str = "item_failed"):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Item:
    """One media file to caption. `id` is whatever the caller uses to find it again."""

    id: str
    path: Path
    kind: str = "image"  # "image" | "video"

    @classmethod
    def from_path(cls, path: Path | str, item_id: str | None = None) -> "Item":
        path = Path(path)
        kind = "video" if media_kind(path) == "video" else "image"
        return cls(id=item_id or path.name, path=path, kind=kind)


@dataclass
class Result:
    """What a backend made of one item: a caption, or the error that stopped it."""

    item: Item
    caption: str | None = None
    error: str | None = None
    code: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Backend:
    """Base class; subclasses set the class attributes and implement `caption`.

    `options` is the backend's own config object (an instance of its `Options` dataclass, built by
    `config.build_options`); `layout` is the DataLayout, for backends that keep files in the data dir.
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    short_label: ClassVar[str] = ""  # for the undo history: "Auto-tag (WD14)"
    output_kind: ClassVar[str] = "tags"
    media: ClassVar[tuple[str, ...]] = ("image",)
    Options: ClassVar[type] = object

    def __init__(self, options: Any, layout: Any = None):
        self.options = options
        self.layout = layout
        self._stop = threading.Event()

    @property
    def produces(self) -> str:
        """"tags" or "text" for this configured instance (some backends let the user choose)."""
        return self.output_kind

    def prepare(self, report: Reporter | None = None) -> None:
        """Make sure everything the backend needs is on disk; may download. Default: nothing to do."""

    def load(self) -> None:
        """Open the model or check the settings; raise TaggingError when that is impossible."""

    def caption(self, item: Item) -> str:
        raise NotImplementedError

    def caption_many(self, items: Iterable[Item]) -> Iterator[Result]:
        """Captions in any order, one Result per item. Backends that batch or run in parallel override this."""
        for item in items:
            if self.stopped:
                return
            yield self.run_one(item)

    def run_one(self, item: Item) -> Result:
        if item.kind not in self.media:
            return Result(item, error=f"{self.label} cannot caption {item.kind} files.", code="unsupported_media")
        try:
            return Result(item, caption=self.caption(item))
        except ItemError as exc:
            return Result(item, error=exc.message, code=exc.code)
        except TaggingError as exc:
            return Result(item, error=exc.message, code=exc.code)
        except OSError as exc:
            return Result(item, error=f"Cannot read {item.path.name}: {exc.strerror or exc}", code="read_error")
        except Exception as exc:  # noqa: BLE001 - one odd file must not end a run over thousands
            log.warning("%s failed on %s: %s", self.name, item.path.name, type(exc).__name__)
            return Result(item, error=self.scrub(f"Unexpected error: {type(exc).__name__}: {exc}"),
                          code="internal_error")

    def scrub(self, text: str) -> str:
        """Remove secrets from a message before it is shown or stored (the API backend masks its key)."""
        return text

    def stop(self) -> None:
        """Ask running work to end soon (cancel); waits in retries and subprocesses watch this."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def close(self) -> None:
        self.stop()

    def test(self, sample: Item) -> dict:
        """Load once and caption one sample; what the settings page's "test" button shows."""
        self.load()
        result = self.run_one(sample)
        if not result.ok:
            raise TaggingError(result.error or "The test failed.", code=result.code or "test_failed")
        return {"caption": result.caption}

    @classmethod
    def describe(cls) -> dict:
        return {"name": cls.name, "label": cls.label, "output_kind": cls.output_kind, "media": list(cls.media)}
