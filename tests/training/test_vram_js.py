"""The create form's VRAM estimate (ui/src/lib/vram.js, run with Node) gives vram.py's figures for every
task type x variant x preset x dataset type, and for Wan 2.2's expert and offload choices."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from server.training import catalog, config, task_types, vram

from .helpers import all_combinations

VRAM_JS = Path(__file__).resolve().parents[2] / "ui" / "src" / "lib" / "vram.js"
RUNNER = """
const { estimateGb } = await import('file://' + process.argv[1]);
let data = '';
for await (const chunk of process.stdin) data += chunk;
console.log(JSON.stringify(JSON.parse(data).map((c) => estimateGb(c.ttype, c.form, c.dataset_type))));
"""


def cases():
    for ttype, variant, preset, dataset_type in all_combinations():
        yield ttype, {"task_type": ttype.id, "variant": variant, "name": "x", "vram_preset": preset}, dataset_type
    wan = task_types.get("wan2.2-lora")
    for training in ({"experts": "low"}, {"experts": "both", "blocks_to_swap": 20},
                     {"experts": "both", "blocks_to_swap": 0, "offload_inactive_dit": True}):
        yield wan, {"task_type": wan.id, "variant": "t2v-A14B", "name": "x", "vram_preset": "custom",
                    "training": {"fp8_base": True, "fp8_scaled": True, **training}}, "video"


def test_browser_estimate_matches_the_server():
    node = shutil.which("node")
    if not node:
        pytest.fail("node is required")
    batch, expected = [], []
    for ttype, raw, dataset_type in cases():
        resolved = config.resolve(config.check(raw))
        batch.append({"ttype": catalog.public_type(ttype), "dataset_type": dataset_type,
                      "form": {"variant": resolved["variant"], "training": resolved["training"],
                               "dataset": resolved["dataset"]}})
        expected.append(vram.estimate_gb(ttype, resolved, dataset_type))
    out = subprocess.run([node, "--input-type=module", "-e", RUNNER, str(VRAM_JS)], input=json.dumps(batch),
                         capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == expected


def test_browser_estimate_of_a_fixed_section_ignores_the_clip_length():
    node = shutil.which("node")
    if not node:
        pytest.fail("node is required")
    fpack = task_types.get("framepack-lora")
    batch = []
    for frames in ([1], [129]):
        resolved = config.resolve(config.check({"task_type": fpack.id, "name": "x", "dataset": {"target_frames": frames}}))
        batch.append({"ttype": catalog.public_type(fpack), "dataset_type": "video",
                      "form": {"variant": resolved["variant"], "training": resolved["training"],
                               "dataset": resolved["dataset"]}})
    out = subprocess.run([node, "--input-type=module", "-e", RUNNER, str(VRAM_JS)], input=json.dumps(batch),
                         capture_output=True, text=True, check=True, timeout=60)
    short, long = json.loads(out.stdout)
    assert short == long == vram.estimate_gb(fpack, config.resolve(config.check({"task_type": fpack.id, "name": "x"})),
                                             "video")
