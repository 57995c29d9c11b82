"""Backend: WD14-family booru taggers (wd-v1-4, wd-v3, wd-eva02) on onnxruntime.

A model folder holds `model.onnx` and `selected_tags.csv`. Preprocessing follows SmilingWolf's own
tagger demo, which is what the models were trained against: alpha composited onto white, padded
to a square on white, resized (bicubic) to the input size the ONNX graph declares, RGB -> BGR,
float32 in 0..255, NHWC. Videos are tagged on a few frames and each tag keeps its best score.
CUDA is used when onnxruntime-gpu provides it, otherwise the CPU.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from PIL import Image

from . import hub
from .base import Backend, Item, ItemError, Reporter, Result, TaggingError
from .config import setting_field
from .media import item_pictures, open_square
from .wd14_labels import Labels, Selection, load_labels, select_tags

if TYPE_CHECKING:
    import numpy as np
# numpy is imported where arrays are made, not here: the app imports this backend while it starts (the
# tagging registry), and numpy's import is a tenth of that start's CPU (store/__init__.py says more).


@dataclass
class Wd14Options:
    repo: str = setting_field("tagging_wd14_repo")
    model_dir: str = setting_field("tagging_wd14_model_dir")
    general_threshold: float = setting_field("tagging_wd14_general_threshold")
    character_threshold: float = setting_field("tagging_wd14_character_threshold")
    underscores_to_spaces: bool = setting_field("tagging_wd14_underscores_to_spaces")
    exclude: list = setting_field("tagging_wd14_exclude")
    batch_size: int = setting_field("tagging_wd14_batch_size")
    video_frames: int = setting_field("tagging_video_frames")
    hf_endpoint: str = setting_field("tagging_hf_endpoint")
    trigger: str = ""  # unused: a tagger has no prompt, but every backend accepts it


def execution_providers() -> list[str]:
    import onnxruntime as ort  # noqa: PLC0415 - heavy import, only when a model is loaded

    available = ort.get_available_providers()
    if "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def preprocess(img: Image.Image, size: int) -> np.ndarray:
    """An RGB picture (alpha already on white) as the model's HxWx3 BGR float32 0..255 input: padded to a
    white square, then scaled to size x size (media.open_square's pictures are that square already)."""
    import numpy as np  # noqa: PLC0415 - see the imports

    img = img.convert("RGB")
    side = max(img.size)
    square = Image.new("RGB", (side, side), (255, 255, 255))
    square.paste(img, ((side - img.width) // 2, (side - img.height) // 2))
    if side != size:
        square = square.resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(square, dtype=np.float32)[:, :, ::-1]


class Wd14Backend(Backend):
    name = "wd14"
    label = "WD14 tagger (local, onnxruntime)"
    short_label = "WD14"
    output_kind = "tags"
    media = ("image", "video")
    Options = Wd14Options
    options: Wd14Options

    session = None
    labels: Labels | None = None
    size = 0
    fixed_batch = False

    # -- files --------------------------------------------------------------------------------

    @property
    def model_folder(self) -> Path:
        if self.options.model_dir:
            return Path(self.options.model_dir).expanduser()
        if self.layout is None:
            raise TaggingError("No model folder is set.", code="model_dir_missing")
        return hub.repo_dir(self.layout.models, self.options.repo)

    def prepare(self, report: Reporter | None = None) -> None:
        folder = self.model_folder
        if hub.has_files(folder):
            return
        if self.options.model_dir:
            raise TaggingError(f"The folder {folder} must contain {' and '.join(hub.WD14_FILES)}.",
                               code="model_files_missing")
        hub.download_repo(self.options.hf_endpoint, self.options.repo, folder, progress=report, stop=self._stop)

    # -- model --------------------------------------------------------------------------------

    def load(self) -> None:
        if self.session is not None:
            return
        folder = self.model_folder
        if not hub.has_files(folder):
            raise TaggingError(f"No tagger model in {folder}: download it first.", code="model_files_missing")
        try:
            import onnxruntime as ort  # noqa: PLC0415
        except ImportError:
            raise TaggingError("onnxruntime is not installed.", code="onnxruntime_missing") from None
        try:
            self.labels = load_labels(folder / "selected_tags.csv")
            session = ort.InferenceSession(str(folder / "model.onnx"), providers=execution_providers())
        except ValueError as exc:
            raise TaggingError(str(exc), code="bad_model") from None
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors for bad files
            raise TaggingError(f"Cannot load {folder / 'model.onnx'}: {exc}", code="bad_model") from None
        self._read_shapes(session)
        self.session = session

    def _read_shapes(self, session) -> None:
        shape = session.get_inputs()[0].shape
        if len(shape) != 4 or shape[3] != 3 or not isinstance(shape[1], int) or shape[1] != shape[2]:
            raise TaggingError(f"This model's input {shape} is not a WD tagger's [batch, size, size, 3].",
                               code="bad_model")
        self.size = int(shape[1])
        # wd-v1-4 graphs were exported with a dynamic batch; some conversions fix it at 1.
        self.fixed_batch = isinstance(shape[0], int) and shape[0] > 0
        outputs = session.get_outputs()[0].shape
        if isinstance(outputs[-1], int) and outputs[-1] != len(self.labels):
            raise TaggingError(f"The model has {outputs[-1]} outputs but selected_tags.csv lists "
                               f"{len(self.labels)} tags.", code="bad_model")

    @property
    def providers(self) -> list[str]:
        return list(self.session.get_providers()) if self.session is not None else []

    def close(self) -> None:
        super().close()
        self.session = None

    # -- inference ----------------------------------------------------------------------------

    def scores(self, batch: np.ndarray) -> np.ndarray:
        """Model outputs for a stack of preprocessed pictures, one row each."""
        import numpy as np  # noqa: PLC0415 - see the imports

        name_in = self.session.get_inputs()[0].name
        name_out = self.session.get_outputs()[0].name
        if self.fixed_batch:
            return np.concatenate([self.session.run([name_out], {name_in: batch[i:i + 1]})[0]
                                   for i in range(len(batch))])
        return self.session.run([name_out], {name_in: batch})[0]

    def tags_for(self, scores: np.ndarray) -> list[tuple[str, float]]:
        opts = self.options
        sel = Selection(opts.general_threshold, opts.character_threshold, opts.underscores_to_spaces,
                        frozenset(opts.exclude or ()))
        return select_tags(self.labels, scores, sel)

    def caption(self, item: Item) -> str:
        result = next(iter(self.caption_many([item])))
        if not result.ok:
            raise ItemError(result.error, code=result.code or "item_failed")
        return result.caption

    def caption_many(self, items: Iterable[Item]) -> Iterator[Result]:
        """Batches of `batch_size` items; the next batch is decoded while the model runs on this one."""
        self.load()
        batches = _chunks(iter(items), max(1, int(self.options.batch_size)))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tag-wd14") as pool:
            batch = next(batches, None)
            future = pool.submit(self._decode, batch) if batch else None
            while future is not None and not self.stopped:
                decoded = future.result()
                batch = next(batches, None)
                future = pool.submit(self._decode, batch) if batch else None
                yield from self._infer(decoded)

    def _decode(self, items: list[Item]) -> list[tuple[Item, list[np.ndarray] | Result]]:
        out = []
        for item in items:
            if item.kind not in self.media:
                out.append((item, Result(item, error=f"Cannot tag {item.kind} files.", code="unsupported_media")))
                continue
            try:
                # An image is decoded straight to the model's square (open_square); a video's frames
                # go through the full path.
                pictures = [open_square(item.path, self.size)] if item.kind == "image" \
                    else item_pictures(item, self.options.video_frames)
                out.append((item, [preprocess(p, self.size) for p in pictures]))
            except ItemError as exc:
                out.append((item, Result(item, error=exc.message, code=exc.code)))
            except OSError as exc:
                out.append((item, Result(item, error=f"Cannot read {item.path.name}: {exc}", code="read_error")))
            except Exception as exc:  # noqa: BLE001 - one odd file must not end the run
                out.append((item, Result(item, error=f"Unexpected error: {type(exc).__name__}: {exc}",
                                         code="internal_error")))
        return out

    def _infer(self, decoded) -> Iterator[Result]:
        import numpy as np  # noqa: PLC0415 - see the imports

        arrays = [a for _, v in decoded if not isinstance(v, Result) for a in v]
        scores = self.scores(np.stack(arrays)) if arrays else None
        row = 0
        for item, value in decoded:
            if isinstance(value, Result):
                yield value
                continue
            # A video's tags are the union over its frames: each tag keeps its best score.
            best = scores[row:row + len(value)].max(axis=0)
            row += len(value)
            yield Result(item, caption=", ".join(name for name, _ in self.tags_for(best)))

    def test(self, sample: Item) -> dict:
        started = time.monotonic()
        self.load()
        loaded = time.monotonic()
        result = super().test(sample)
        result.update(providers=self.providers, input_size=self.size, tag_count=len(self.labels),
                      model_folder=str(self.model_folder), load_seconds=round(loaded - started, 2),
                      seconds=round(time.monotonic() - started, 2))
        return result


def _chunks(it: Iterator[Item], size: int) -> Iterator[list[Item]]:
    while chunk := list(islice(it, size)):
        yield chunk
