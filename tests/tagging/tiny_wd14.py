"""A tiny WD14-shaped tagger built with `onnx`, whose scores are a known function of the image.

Graph: NHWC float32 BGR 0..255 -> /255 -> mean over H and W -> (b, g, r) -> MatMul W + bias ->
Sigmoid, so for a flat-coloured picture every tag's score can be computed by hand. The tag list
mixes the three CSV categories (0 general, 4 character, 9 rating) and a kaomoji.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# name, category, weights on (b, g, r) means in 0..1, bias
TAGS = [
    ("general", 9, (0, 0, 0), 5.0),
    ("sensitive", 9, (0, 0, 0), -5.0),
    ("red_background", 0, (0, 0, 10), -5.0),
    ("blue_background", 0, (10, 0, 0), -5.0),
    ("solo", 0, (0, 0, 0), 0.1),
    ("simple_background", 0, (0, 0, 0), -0.2),
    ("^_^", 0, (0, 0, 0), 1.0),
    ("hatsune_miku", 4, (0, 0, 4), -2.0),
    ("white_padding", 0, (0, 10, 0), -2.5),
    ("long_hair", 0, (0, 0, 0), 0.3),
    ("original", 4, (0, 0, 0), -1.0),
]


def expected_score(tag: str, bgr_means: tuple[float, float, float]) -> float:
    _, _, w, bias = next(t for t in TAGS if t[0] == tag)
    logit = sum(wi * m for wi, m in zip(w, bgr_means)) + bias
    return 1 / (1 + math.exp(-logit))


def build_model(path: Path, size: int = 32, fixed_batch: bool = False, tags=TAGS) -> Path:
    batch = 1 if fixed_batch else "batch_size"
    inp = helper.make_tensor_value_info("input_1", TensorProto.FLOAT, [batch, size, size, 3])
    out = helper.make_tensor_value_info("predictions_sigmoid", TensorProto.FLOAT, [batch, len(tags)])
    weights = np.array([t[2] for t in tags], dtype=np.float32).T  # (3, N)
    bias = np.array([t[3] for t in tags], dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Div", ["input_1", "scale"], ["x01"]),
            helper.make_node("ReduceMean", ["x01"], ["means"], axes=[1, 2], keepdims=0),
            helper.make_node("MatMul", ["means", "W"], ["logits0"]),
            helper.make_node("Add", ["logits0", "b"], ["logits"]),
            helper.make_node("Sigmoid", ["logits"], ["predictions_sigmoid"]),
        ],
        "tiny_wd14",
        [inp],
        [out],
        initializer=[
            numpy_helper.from_array(np.array(255.0, dtype=np.float32), "scale"),
            numpy_helper.from_array(weights, "W"),
            numpy_helper.from_array(bias, "b"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def write_tags_csv(path: Path, tags=TAGS) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["tag_id", "name", "category", "count"])
        for i, (name, category, _, _) in enumerate(tags):
            writer.writerow([1000 + i, name, category, 5000 - i])
    return path


def build_model_dir(folder: Path, **kw) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    build_model(folder / "model.onnx", **kw)
    write_tags_csv(folder / "selected_tags.csv")
    return folder
