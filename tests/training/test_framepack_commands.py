"""What the real tiny FramePack runs (tests/realtrainer/test_framepack*.py) showed about the commands: a batch above 1
with sdpa needs --split_attn, or musubi's packed DiT raises at the first step ("batch_size > 1 is not supported in
this configuration. Try `--split_attn`"), after both caches are built."""

from __future__ import annotations

import pytest

from server.errors import ValidationError
from server.training import cli_spec, task_types

from .helpers import plan_for, raw_config, script_args

FRAMEPACK = {"framepack-lora": "video", "framepack-1f-lora": "image_control"}


def train_values(type_id: str, batch_size: int, **training) -> dict:
    ttype = task_types.get(type_id)
    dataset_type = FRAMEPACK.get(type_id, "image")
    raw = raw_config(ttype, ttype.variants[0].key, "high", training=training, dataset={"batch_size": batch_size})
    values, problems = cli_spec.parse(ttype.scripts["train"], script_args(plan_for(raw, dataset_type).stages[-1]))
    assert problems == []
    return values


@pytest.mark.parametrize("type_id", FRAMEPACK)
def test_a_framepack_batch_above_one_with_sdpa_splits_attention(type_id):
    assert train_values(type_id, 2)["sdpa"] and train_values(type_id, 2)["split_attn"]
    assert not train_values(type_id, 1).get("split_attn")
    assert train_values(type_id, 1, split_attn=True)["split_attn"]   # the user's own choice stays


def test_other_types_batch_with_sdpa_as_they_are():
    assert not train_values("wan2.1-lora", 2).get("split_attn")
    assert not train_values("qwen-image-lora", 2).get("split_attn")


@pytest.mark.parametrize("type_id", FRAMEPACK)
def test_framepack_neither_offers_nor_takes_flash3(type_id, api):
    # musubi's packed DiT has no FlashAttention 3 path: plain SDPA at batch 1, a failure above it
    fields = {f["key"]: f for f in next(t for t in api.get("/api/task-types").get_json()["task_types"]
                                        if t["id"] == type_id)["fields"]}
    assert "flash3" not in fields["attention"]["choices"] and "sdpa" in fields["attention"]["choices"]
    ttype = task_types.get(type_id)
    raw = raw_config(ttype, ttype.variants[0].key, "high", training={"attention": "flash3"})
    with pytest.raises(ValidationError) as err:
        plan_for(raw, FRAMEPACK[type_id])
    assert (err.value.code, err.value.details) == ("attention_unsupported",
                                                   {"attention": "flash3", "field": "training.attention"})


def test_other_types_still_offer_flash3(api):
    wan = next(t for t in api.get("/api/task-types").get_json()["task_types"] if t["id"] == "wan2.1-lora")
    assert "flash3" in next(f for f in wan["fields"] if f["key"] == "attention")["choices"]
