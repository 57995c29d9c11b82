"""Kandinsky 5's variants against the real musubi-tuner's task table (kandinsky5/configs.py TASK_CONFIGS), read with
its own Python: every task the latent cache can serve is offered, each with the geometry and sampling of its config.
Skipped without a musubi-tuner environment, like test_real_musubi.py (whose parser checks cover the commands)."""

from __future__ import annotations

import json
import subprocess

from server.training import config, task_types

from .helpers import plan_for, raw_config, script_args
from .test_real_musubi import musubi_python

READ_CONFIGS = """
import json
from musubi_tuner.kandinsky5.configs import TASK_CONFIGS
print(json.dumps({k: {"vae": c.vae.name, "attention": c.attention.type, "resolution": c.resolution,
                      "steps": c.num_steps, "guidance": c.guidance_weight,
                      "blocks": c.dit_params.num_visual_blocks} for k, c in TASK_CONFIGS.items()}))
"""


def musubi_task_configs() -> dict:
    res = subprocess.run([musubi_python(), "-c", READ_CONFIGS], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_every_kandinsky5_video_task_is_a_variant_built_as_its_config_says():
    configs = musubi_task_configs()
    ttype = task_types.get("kandinsky5-lora")
    # kandinsky5_cache_latents.py encodes with HunyuanVideo's VAE only: the FLUX-VAE image tasks cannot be cached.
    assert {v.key for v in ttype.variants} == {k for k, c in configs.items() if c["vae"] == "hunyuan"}
    assert {k for k, c in configs.items() if c["vae"] != "hunyuan"} == {"k5-lite-t2i-hd", "k5-lite-i2i-hd"}
    for v in ttype.variants:
        c = configs[v.key]
        # kandinsky5/models/dit.py swaps at most num_visual_blocks - 2
        assert ttype.max_swap(v.key) == c["blocks"] - 2, v.key
        stages = {s.name: script_args(s) for s in plan_for(raw_config(ttype, v.key), ttype.accepted_dataset_types(
            v.key)[0]).stages}
        train = stages["train"]
        assert train[train.index("--task") + 1] == v.key
        # NABLA's masks need latent sides in multiples of 16: its tasks' caches are resized for them
        assert ("--nabla_resize" in stages["cache_latents"]) == (c["attention"] == "nabla"), v.key
        # the trainer switches to I2V by the task's name
        assert (ttype.accepted_dataset_types(v.key) == ("video",)) == ("i2v" in v.key), v.key
        resolved = config.resolve(raw_config(ttype, v.key))
        # the sampler's area: 512x768 in multiples of 16 for SD tasks, 1024x1024 in multiples of 128 for HD ones
        size = [1024, 1024] if c["resolution"] == 1024 else [768, 512]
        assert resolved["dataset"]["resolution"] == size, v.key
        assert [resolved["samples"]["width"], resolved["samples"]["height"]] == size, v.key
        assert resolved["samples"]["guidance"] == c["guidance"], v.key
        # the app samples in 25 steps, except where the task is distilled to fewer
        assert resolved["samples"]["steps"] == min(25, c["steps"]), v.key
