"""HiDream-O1 and Ideogram 4 (issue 17), and what they needed of the table: stages as data (HiDream-O1 caches pixel
patches, not latents), model-file header facts, block swap that needs batch size 1, and FramePack one-frame
--one_frame_no_2x / --one_frame_no_4x on the latent cache. Every type x variant x preset x dataset type is parsed
by the real scripts in test_real_musubi.py; the CLI contract for these scripts comes from their real parsers
(update_cli_spec.py)."""

from __future__ import annotations

import pytest

from server.errors import ValidationError
from server.models import checks
from server.training import cache_state, cache_total, cli_spec, task_types, tasks

from tests.models.helpers import write_st

from .conftest import add_dataset, point_at_standin
from .helpers import plan_for, raw_config, script_args

HIDREAM = task_types.get("hidream-o1-lora")
IDEOGRAM = task_types.get("ideogram4-lora")


def values_of(stage) -> dict:
    values, problems = cli_spec.parse(stage.script, script_args(stage))
    assert problems == []
    return values


def test_hidream_runs_a_pixel_cache_then_trains_with_the_model_type_and_task_of_its_variant():
    plan = plan_for(raw_config(HIDREAM, "dev-i2i", "high"), "image_control")
    pixels, text, train = plan.stages
    assert [s.name for s in plan.stages] == ["cache_pixels", "cache_text_encoder", "train"]
    assert pixels.script == "hidream_o1_cache_pixel" and "--vae" not in pixels.argv and "--model_type" not in pixels.argv
    assert values_of(text)["model_type"] == "dev"
    t = values_of(train)
    assert (t["model_type"], t["task"], t["network_module"]) == ("dev", "i2i", "networks.lora_hidream_o1")
    # docs/hidream_o1.md: dev's noise settings, uniform timesteps, no weighting, no VAE on the command.
    assert (t["noise_scale_start"], t["noise_scale_end"], t["noise_clip_std"]) == (7.5, 7.5, 2.5)
    assert (t["timestep_sampling"], t["weighting_scheme"], t["learning_rate"]) == ("uniform", "none", 4e-5)
    assert "vae" not in t and "skip_t2i_visual_dummy" not in t
    samples = plan.files["sample_prompts.txt"].splitlines()[1]
    assert "--ci /prompts/control.png" in samples and "--s 28" in samples and "--g " not in samples

    full = values_of(plan_for(raw_config(HIDREAM, "full-t2i", "medium"), "image").stages[-1])
    assert (full["model_type"], full["task"], full["noise_scale_start"], full["noise_clip_std"]) == ("full", "t2i", 8.0, 0.0)
    assert full["skip_t2i_visual_dummy"] and full["fp8_base"] and full["fp8_scaled"]
    # --task must match the dataset: the t2i variants take no control images, the i2i ones need them.
    with pytest.raises(ValidationError) as err:
        plan_for(raw_config(HIDREAM, "full-t2i"), "image_control")
    assert err.value.code == "dataset_type"
    with pytest.raises(ValidationError):
        plan_for(raw_config(HIDREAM, "full-i2i"), "image")


def test_hidream_block_swap_with_a_batch_above_one_is_refused_where_musubi_raises():
    def plan(variant, dataset_type, **training):
        raw = raw_config(HIDREAM, variant, "low", training=training, dataset={"batch_size": 2})
        return plan_for(raw, dataset_type)

    with pytest.raises(ValidationError) as err:
        plan("full-i2i", "image_control")
    assert (err.value.code, err.value.details["field"]) == ("swap_needs_batch_one", "dataset.batch_size")
    with pytest.raises(ValidationError) as err:
        plan("full-t2i", "image", attention="flash_attn")
    assert err.value.code == "swap_needs_batch_one"
    assert values_of(plan("full-t2i", "image").stages[-1])["blocks_to_swap"] == 24   # t2i batches in one pass
    assert plan("full-i2i", "image_control", blocks_to_swap=0)


def test_ideogram4_trains_its_fp8_dit_as_it_is_and_samples_with_its_sampler():
    swaps = []
    for preset in task_types.PRESETS:
        train = plan_for(raw_config(IDEOGRAM, "ideogram4", preset), "image").stages[-1]
        t = values_of(train)
        assert "fp8_base" not in t and "--fp8_scaled" not in train.argv
        assert (t["timestep_sampling"], t["weighting_scheme"]) == ("ideogram4_shift", "none")
        swaps.append(t.get("blocks_to_swap", 0))
    assert swaps == [0, 8, 24] and max(swaps) <= IDEOGRAM.max_swap()
    plan = plan_for(raw_config(IDEOGRAM, "ideogram4"), "image")
    assert [s.script for s in plan.stages] == ["ideogram4_cache_latents", "ideogram4_cache_text_encoder_outputs",
                                               "ideogram4_train_network"]
    # A stage's own arguments (task_types.Stage.args): the doc's cache dtypes.
    assert values_of(plan.stages[0])["vae_dtype"] == "bfloat16" and values_of(plan.stages[1])["text_cache_dtype"] == "bf16"
    # Steps, guidance and shift come from the sampler preset: only size, seed and the negative prompt are written.
    assert plan.files["sample_prompts.txt"].splitlines()[1] == "a photo of sks --w 1024 --h 1024"
    with pytest.raises(ValidationError) as err:
        plan_for(raw_config(IDEOGRAM, "ideogram4", training={"fp8_scaled": True, "fp8_base": True}), "image")
    assert err.value.details["field"] == "training.fp8_scaled"
    with pytest.raises(ValidationError):
        plan_for(raw_config(IDEOGRAM, "ideogram4", training={"network_type": "lokr"}), "image")


def test_model_files_carry_the_header_facts_their_loaders_insist_on(tmp_path):
    blocks = {f"layers.{i}.attention.qkv.weight": ("F8_E4M3", [8, 8]) for i in range(2)}
    cond = write_st(tmp_path / "cond.safetensors", blocks, {"model_type": "ideogram4_cond"})
    uncond = write_st(tmp_path / "uncond.safetensors", blocks, {"model_type": "ideogram4_uncond"})
    verdict = checks.check_file(cond, "ideogram4-lora", "dit")
    assert verdict["status"] == "ok", verdict["problems"]    # fp8 is the only form it comes in: no fp8 warning
    verdict = checks.check_file(uncond, "ideogram4-lora", "dit")
    assert verdict["status"] == "error"
    assert [p["code"] for p in verdict["problems"]] == ["model_metadata_mismatch"]
    assert "ideogram4_fp8_scaled.safetensors" in verdict["problems"][0]["message"]
    # The same fp8 file for another type's DiT still gets the usual warning.
    assert checks.check_file(cond, "zimage-lora", "dit")["status"] == "warning"

    qwen3vl = write_st(tmp_path / "ho1.safetensors", {"model.language_model.layers.0.mlp.up_proj.weight": ("BF16", [8, 8]),
                                                      "model.visual.blocks.0.attn.qkv.weight": ("BF16", [8, 8])})
    assert checks.check_file(qwen3vl, "hidream-o1-lora", "dit")["status"] == "ok"
    other = write_st(tmp_path / "other.safetensors", {"transformer_blocks.0.attn.to_q.weight": ("BF16", [8, 8])})
    verdict = checks.check_file(other, "hidream-o1-lora", "dit")
    assert [p["code"] for p in verdict["problems"]] == ["model_wrong_keys"]
    folder = tmp_path / "HiDream-O1-Image"
    folder.mkdir()
    assert checks.check_file(folder, "hidream-o1-lora", "dit")["status"] == "ok"   # a model folder is documented too


def test_framepack_one_frame_no_2x_no_4x_go_on_the_latent_cache_only():
    fpack = task_types.get("framepack-1f-lora")
    training = {"one_frame_no_2x": True, "one_frame_no_4x": True}
    latents, _, train = plan_for(raw_config(fpack, "original", training=training), "image_control").stages
    assert values_of(latents)["one_frame_no_2x"] and values_of(latents)["one_frame_no_4x"]
    assert not any(a.startswith("--one_frame_no") for a in train.argv)
    plain = plan_for(raw_config(fpack, "original"), "image_control").stages[0]
    assert not any(a.startswith("--one_frame_no") for a in plain.argv)
    # Wan's one-frame cache has no such options: the field is FramePack's only.
    wan = task_types.get("wan2.1-1f-lora")
    with pytest.raises(ValidationError) as err:
        plan_for(raw_config(wan, "i2v-14B", training={"one_frame_no_2x": True}), "image_control")
    assert err.value.details["field"] == "training.one_frame_no_2x"


def test_pixel_caches_are_tracked_like_latents(tmp_path):
    """cache_state and cache_total go by what a stage caches, so HiDream-O1's pixel stage is checked like latents."""
    from server.training.dataset_source import DatasetSource

    media, cache = tmp_path / "media", tmp_path / "cache"
    media.mkdir()
    cache.mkdir()
    for stem in ("a", "b"):
        (media / f"{stem}.png").write_bytes(stem.encode())
        (media / f"{stem}.txt").write_text(stem, encoding="utf-8")
        (cache / f"{stem}_1024x1024_ho1.safetensors").write_bytes(b"pixels")
        (cache / f"{stem}_ho1_te.safetensors").write_bytes(b"tokens")
    source = DatasetSource("ds_1", "Cats", "image", media, tmp_path / "control")
    argv = ["py", "hidream_o1_cache_pixel.py", "--dataset_config", "d.toml", "--skip_existing"]
    before = cache_state.manifest("cache_pixels", argv, "toml", source, ".txt")
    cache_state.record(cache, "cache_pixels", before)
    (media / "a.png").write_bytes(b"changed picture")
    dropped = cache_state.drop_stale(cache, "cache_pixels", cache_state.manifest("cache_pixels", argv, "toml", source,
                                                                                ".txt"))
    assert [p.name for p in dropped] == ["a_1024x1024_ho1.safetensors"]   # the text cache of a is not this stage's
    assert (cache / "a_ho1_te.safetensors").exists()
    toml = tmp_path / "d.toml"
    toml.write_text(f"[general]\nresolution = 1024\n[[datasets]]\nimage_directory = '{media.as_posix()}'\n",
                    encoding="utf-8")
    assert cache_total.expected_batches("cache_pixels", ["--dataset_config", str(toml)]) == 2


def test_a_hidream_run_goes_through_its_own_stages(api, svc, tmp_path):
    """Through the app and the stand-in trainer: the run record, logs, caches and cache manifests follow the type's
    stages, and a second run skips the pixel cache whose inputs did not change. Its LoRA is not offered for ComfyUI
    conversion: convert_lora.py's generic rename breaks HiDream-O1's module names."""
    point_at_standin(svc.store)
    add_dataset(svc)
    dit = write_st(tmp_path / "hidream_o1_image_bf16.safetensors",
                   {"model.language_model.layers.0.mlp.up_proj.weight": ("BF16", [8, 8])})
    raw = {"name": "O1 cat", "task_type": "hidream-o1-lora", "variant": "full-t2i", "dataset_id": "ds_0000c0de",
           "models": {"dit": str(dit)}, "vram_preset": "high", "gpus": [0],
           "training": {"max_train_epochs": 1, "save_every_n_epochs": 1}}
    task = tasks.create(svc.store, svc.layout, raw)
    svc.supervisor.enqueue(task["id"])
    done = svc.supervisor.wait(task["id"], timeout=60)
    assert done["status"] == "done", done["error"]
    assert [s["name"] for s in done["run"]["stages"]] == ["cache_pixels", "cache_text_encoder", "train"]
    paths = tasks.paths(svc.layout, task["id"])
    assert (paths.logs / "run-001-cache_pixels.log").is_file()
    assert sorted(p.name for p in paths.cache.glob("*_ho1.safetensors")) == [f"img{i}_1024x1024_ho1.safetensors"
                                                                           for i in range(3)]
    assert cache_state.recorded(paths.cache, "cache_pixels") == done["run"]["fingerprints"]["cache_pixels"]
    log = api.get(f"/api/tasks/{task['id']}/log?stage=cache_pixels").get_json()
    assert log["stage"] == "cache_pixels" and "Encoding dataset" in log["text"]

    svc.supervisor.enqueue(task["id"])
    again = svc.supervisor.wait(task["id"], timeout=60)
    assert again["status"] == "done", again["error"]
    # Skipped stages start no process and write no log (runner._skip_cache).
    assert not (paths.logs / "run-002-cache_pixels.log").exists()
    assert not (paths.logs / "run-002-cache_text_encoder.log").exists()
    assert (paths.logs / "run-002-train.log").is_file()

    assert (paths.output / "O1_cat.safetensors").is_file()
    resp = api.post(f"/api/tasks/{task['id']}/convert", json={"file": "O1_cat.safetensors", "target": "other"})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "convert_unsupported"
    table = {t["id"]: t for t in api.get("/api/task-types").get_json()["task_types"]}
    assert table["hidream-o1-lora"]["comfy_conversion"] is False and table["ideogram4-lora"]["comfy_conversion"]


def test_a_changed_control_image_recaches_hidream_i2i_text(svc, tmp_path):
    """HiDream-O1's text cache holds the control images' processor pixels (TaskType.text_encoder_reads_control), so a
    changed control image re-encodes that item's text too, not only its pixel patches."""
    point_at_standin(svc.store)
    media = add_dataset(svc, type_="image_control")
    dit = write_st(tmp_path / "dit.safetensors", {"model.language_model.layers.0.mlp.up_proj.weight": ("BF16", [8, 8])})
    raw = {"name": "O1 edit", "task_type": "hidream-o1-lora", "variant": "full-i2i", "dataset_id": "ds_0000c0de",
           "models": {"dit": str(dit)}, "vram_preset": "high", "gpus": [0], "training": {"max_train_epochs": 1}}
    task = tasks.create(svc.store, svc.layout, raw)
    svc.supervisor.enqueue(task["id"])
    assert svc.supervisor.wait(task["id"], timeout=60)["status"] == "done"
    paths = tasks.paths(svc.layout, task["id"])
    (paths.cache / "img1_ho1_te.safetensors").write_bytes(b"kept")
    (paths.cache / "img2_ho1_te.safetensors").write_bytes(b"stale")
    control = media.parent / "control" / "img2.png"
    control.write_bytes(control.read_bytes() + b"\0")   # the same picture, another file: its size changed
    svc.supervisor.enqueue(task["id"])
    assert svc.supervisor.wait(task["id"], timeout=60)["status"] == "done"
    assert (paths.cache / "img2_ho1_te.safetensors").read_bytes() == b"cache"   # encoded again
    assert (paths.cache / "img1_ho1_te.safetensors").read_bytes() == b"kept"
