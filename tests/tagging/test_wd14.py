"""WD14 backend: real onnxruntime inference on a tiny model whose scores the test can compute."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from server.tagging.base import Item, TaggingError
from server.tagging.config import build_options
from server.tagging.wd14 import Wd14Backend, Wd14Options, preprocess
from server.tagging.wd14_labels import load_labels

from .tiny_wd14 import build_model_dir, expected_score

RED_SQUARE_TAGS = ["red background", "hatsune miku", "^_^", "long hair", "solo", "simple background"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("wd14") / "tiny")


def backend(model_dir: Path, **overrides) -> Wd14Backend:
    b = Wd14Backend(build_options(Wd14Options, None, {"model_dir": str(model_dir), **overrides}))
    b.load()
    return b


def image(tmp_path: Path, name: str, size=(48, 48), color=(255, 0, 0, 255)) -> Item:
    path = tmp_path / name
    Image.new("RGBA", size, color).save(path)
    return Item.from_path(path)


def test_red_image_tags_pass_thresholds_in_confidence_order(model_dir, tmp_path):
    b = backend(model_dir)
    assert b.size == 32 and not b.fixed_batch
    caption = b.caption(image(tmp_path, "red.png"))
    # Ratings ("general" scores 0.993) are left out; the character tag passes 0.85 (0.881); the
    # kaomoji keeps its underscore while every other tag gets spaces.
    assert caption.split(", ") == RED_SQUARE_TAGS
    assert expected_score("hatsune_miku", (0, 0, 1)) == pytest.approx(0.881, abs=1e-3)


def test_thresholds_are_per_category(model_dir, tmp_path):
    item = image(tmp_path, "red.png")
    assert backend(model_dir, general_threshold=0.5).caption(item).split(", ") == RED_SQUARE_TAGS[:-1]
    tags = backend(model_dir, character_threshold=0.9).caption(item).split(", ")
    assert "hatsune miku" not in tags and "solo" in tags
    tags = backend(model_dir, character_threshold=0.2).caption(item).split(", ")
    assert "original" in tags  # character tag at 0.269
    assert "general" not in tags and "sensitive" not in tags


def test_underscores_kept_on_request_and_exclude_list_matches_both_forms(model_dir, tmp_path):
    item = image(tmp_path, "red.png")
    tags = backend(model_dir, underscores_to_spaces=False, exclude=["long hair", "simple_background"]).caption(item)
    assert tags.split(", ") == ["red_background", "hatsune_miku", "^_^", "solo"]


def test_preprocessing_is_bgr_padded_on_white_and_alpha_on_white(model_dir, tmp_path):
    b = backend(model_dir)
    blue = b.caption(image(tmp_path, "blue.png", color=(0, 0, 255, 255))).split(", ")
    assert "blue background" in blue and "red background" not in blue  # channel order is BGR
    wide = b.caption(image(tmp_path, "wide.png", size=(64, 32))).split(", ")
    assert "white padding" in wide and "red background" in wide  # half the square is white padding
    clear = b.caption(image(tmp_path, "clear.png", color=(0, 0, 0, 0))).split(", ")
    assert {"red background", "blue background", "white padding"} <= set(clear)  # transparent -> white


def test_preprocess_array_layout():
    arr = preprocess(Image.new("RGB", (10, 20), (255, 0, 0)), 16)
    assert arr.shape == (16, 16, 3) and arr.dtype == np.float32
    assert arr[8, 8].tolist() == [0.0, 0.0, 255.0]  # centre: red as BGR
    assert arr[8, 0].tolist() == [255.0, 255.0, 255.0]  # left pad: white


def test_batches_match_single_items_and_bad_files_fail_alone(model_dir, tmp_path):
    items = [image(tmp_path, f"{i}.png", color=c) for i, c in
             enumerate([(255, 0, 0, 255), (0, 0, 255, 255), (255, 255, 255, 255), (255, 0, 0, 255)])]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    items.insert(2, Item.from_path(broken))
    batched = {r.item.id: r for r in backend(model_dir, batch_size=2).caption_many(items)}
    single = backend(model_dir, batch_size=1)
    assert len(batched) == 5
    assert not batched["broken.png"].ok and batched["broken.png"].code == "bad_image"
    for item in items:
        if item.id != "broken.png":
            assert batched[item.id].caption == single.caption(item)


def test_fixed_batch_model_runs_one_at_a_time(tmp_path):
    folder = build_model_dir(tmp_path / "fixed", fixed_batch=True, size=24)
    b = backend(folder, batch_size=4)
    assert b.fixed_batch and b.size == 24
    results = list(b.caption_many([image(tmp_path, f"{i}.png") for i in range(3)]))
    assert [r.caption.split(", ") for r in results] == [RED_SQUARE_TAGS] * 3


def test_csv_that_does_not_match_the_model_is_refused(tmp_path):
    folder = build_model_dir(tmp_path / "bad")
    lines = (folder / "selected_tags.csv").read_text().splitlines()
    (folder / "selected_tags.csv").write_text("\n".join(lines[:-2]) + "\n")
    with pytest.raises(TaggingError) as err:
        backend(folder)
    assert err.value.code == "bad_model" and "11 outputs" in err.value.message


def test_missing_model_folder_is_a_clear_error(tmp_path):
    b = Wd14Backend(build_options(Wd14Options, None, {"model_dir": str(tmp_path / "nothing")}))
    with pytest.raises(TaggingError) as err:
        b.prepare()
    assert err.value.code == "model_files_missing"


def test_labels_categories(model_dir):
    labels = load_labels(model_dir / "selected_tags.csv")
    assert labels.categories.count(9) == 2 and labels.names[6] == "^_^"


def test_video_frames_are_tagged_and_merged(model_dir, tmp_path):
    av = pytest.importorskip("av")
    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        # First half red, second half blue: frames from both halves must be seen.
        for i in range(20):
            rgb = (255, 0, 0) if i < 10 else (0, 0, 255)
            frame = av.VideoFrame.from_image(Image.new("RGB", (32, 32), rgb))
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    tags = backend(model_dir, video_frames=3).caption(Item.from_path(path)).split(", ")
    assert "red background" in tags and "blue background" in tags
