"""Commands that match what the real musubi-tuner (v0.3.4, ../shared/musubi/musubi-tuner) does with them
(issue 11 §2): each case names the musubi code it follows. Every command is parsed with the CLI contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.errors import ValidationError
from server.models.safetensors_header import write_file
from server.training import cli_spec, config, fields, lr_schedules, planning, sample_prompts, task_types, vram
from server.training.commands import TaskPaths

from .helpers import plan_for, raw_config, saved_state, script_args


def train_values(plan) -> dict:
    train = plan.stages[2]
    values, problems = cli_spec.parse(train.script, script_args(train))
    assert problems == [] and cli_spec.cross_rules(train.script, values) == []
    return values


def refused(raw, dataset_type="image", **kw) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        plan_for(raw, dataset_type, **kw)
    return err.value


# --- 3. Kontext --fp8_t5 (torch.float8e4m3fn typo) -------------------------------------------------

@pytest.mark.parametrize("preset", task_types.PRESETS)
def test_kontext_never_gets_fp8_t5(preset):
    kontext = task_types.get("kontext-lora")
    plan = plan_for(raw_config(kontext, "dev", preset), "image_control")
    assert all("--fp8_t5" not in s.argv for s in plan.stages)
    err = refused(raw_config(kontext, "dev", "custom", training={"fp8_text_encoder": True}), "image_control")
    assert err.details["field"] == "training.fp8_text_encoder"


def test_contract_refuses_kontext_fp8_t5_even_as_an_extra_argument():
    problems = cli_spec.check("flux_kontext_cache_text_encoder_outputs",
                              ["--dataset_config", "d", "--text_encoder1", "a", "--text_encoder2", "b", "--fp8_t5"])
    assert [p.flag for p in problems] == ["--fp8_t5"]
    kontext = task_types.get("kontext-lora")
    err = refused(raw_config(kontext, "dev", extra_args=["--fp8_t5"]), "image_control")
    assert err.details["field"] == "extra_args"


# --- 6. Optimizers by import path, schedulers with what they need ---------------------------------

@pytest.mark.parametrize("name, path", [("Prodigy", "prodigyopt.Prodigy"), ("CAME", "came_pytorch.CAME"),
                                        ("AdamW8bit", "AdamW8bit")])
def test_optimizers_musubi_can_find(name, path):
    qwen = task_types.get("qwen-image-lora")
    assert train_values(plan_for(raw_config(qwen, "original", training={"optimizer_type": name})))[
        "optimizer_type"] == path


def test_contract_refuses_an_optimizer_torch_optim_lacks():
    qwen = task_types.get("qwen-image-lora")
    err = refused(raw_config(qwen, "original", extra_args=["--optimizer_type", "Prodigy"]))
    assert err.details["flag"] == "--optimizer_type"


def test_adafactor_scheduler_needs_the_adafactor_optimizer():
    qwen = task_types.get("qwen-image-lora")
    err = refused(raw_config(qwen, "original", training={"lr_scheduler": "adafactor"}))
    assert (err.code, err.details["field"]) == ("scheduler_needs_adafactor", "training.lr_scheduler")
    off = raw_config(qwen, "original", training={"lr_scheduler": "adafactor", "optimizer_type": "AdaFactor",
                                                 "optimizer_args": ["relative_step=False"]})
    assert refused(off).code == "scheduler_needs_adafactor"
    ok = plan_for(raw_config(qwen, "original", training={"lr_scheduler": "adafactor", "optimizer_type": "AdaFactor"}))
    assert train_values(ok)["lr_scheduler"] == "adafactor"


def test_cosine_with_min_lr_needs_its_ratio():
    qwen = task_types.get("qwen-image-lora")
    err = refused(raw_config(qwen, "original", training={"lr_scheduler": "cosine_with_min_lr"}))
    assert (err.code, err.details["field"]) == ("scheduler_needs_min_lr_ratio", "training.lr_scheduler_min_lr_ratio")
    ok = plan_for(raw_config(qwen, "original", training={"lr_scheduler": "cosine_with_min_lr",
                                                         "lr_scheduler_min_lr_ratio": 0.1}))
    assert train_values(ok)["lr_scheduler_min_lr_ratio"] == 0.1


def test_piecewise_constant_is_not_offered():
    assert "piecewise_constant" not in fields.SCHEDULERS
    problems = cli_spec.check("qwen_image_train_network", [
        "--dit", "d", "--dataset_config", "t", "--network_module", "m", "--output_dir", "o", "--output_name", "n",
        "--sdpa", "--optimizer_type", "AdamW", "--lr_scheduler", "piecewise_constant"])
    assert [p.flag for p in problems] == ["--lr_scheduler"]


# --- 7. Persistent workers need workers -------------------------------------------------------------

def test_no_persistent_workers_without_workers():
    qwen = task_types.get("qwen-image-lora")
    values = train_values(plan_for(raw_config(qwen, "original", training={"max_data_loader_n_workers": 0})))
    assert values["max_data_loader_n_workers"] == 0 and "persistent_data_loader_workers" not in values
    values = train_values(plan_for(raw_config(qwen, "original", training={"max_data_loader_n_workers": 2})))
    assert values["persistent_data_loader_workers"] is True
    err = refused(raw_config(qwen, "original", training={"max_data_loader_n_workers": 0},
                             extra_args=["--persistent_data_loader_workers"]))
    assert err.details["flag"] == "--persistent_data_loader_workers"


# --- 11. uniform frame extraction needs frame_sample -----------------------------------------------

def test_uniform_frame_extraction_needs_frame_sample():
    wan = task_types.get("wan2.1-lora")
    err = refused(raw_config(wan, "t2v-1.3B", dataset={"frame_extraction": "uniform"}), "video")
    assert (err.code, err.details["field"]) == ("frame_sample_required", "dataset.frame_sample")
    assert refused(raw_config(wan, "t2v-1.3B", dataset={"frame_extraction": "uniform", "frame_sample": 1}),
                   "video").code == "frame_sample_required"
    plan = plan_for(raw_config(wan, "t2v-1.3B", dataset={"frame_extraction": "uniform", "frame_sample": 4}), "video")
    assert 'frame_extraction = "uniform"' in plan.files["dataset.toml"] and "frame_sample = 4" in plan.files[
        "dataset.toml"]


# --- 9. Sample guidance: --l for Qwen-Image, Wan, Z-Image; defaults per type ------------------------

@pytest.mark.parametrize("task_type, variant, option, value", [
    ("qwen-image-lora", "original", "--l", "4.0"),
    ("qwen-image-edit-lora", "edit-2511", "--l", "4.0"),
    ("zimage-lora", "base", "--l", "4.0"),
    ("wan2.1-lora", "t2v-1.3B", "--l", "5.0"),
    ("wan2.2-lora", "t2v-A14B", "--l", "3.0"),
    ("wan2.2-lora", "i2v-A14B", "--l", "3.5"),
    ("kontext-lora", "dev", "--g", "2.5"),
    ("flux2-lora", "klein-4b", "--g", "1.0"),
    ("flux2-lora", "klein-base-9b", "--g", "4.0"),
    ("flux2-lora", "dev", "--g", "4.0"),
    ("hunyuan-video-lora", "t2v", "--g", "6.0"),
])
def test_sample_guidance_goes_where_the_sampler_reads_it(task_type, variant, option, value):
    ttype = task_types.get(task_type)
    resolved = config.resolve(config.check(raw_config(ttype, variant)))
    line = sample_prompts.build(resolved, ttype).splitlines()[1]
    assert f" {option} {value}" in line
    other = "--g" if option == "--l" else "--l"
    assert f" {other} " not in line


def test_klein_distilled_samples_with_four_steps():
    flux2 = task_types.get("flux2-lora")
    resolved = config.resolve(config.check(raw_config(flux2, "klein-9b")))
    assert " --s 4 " in sample_prompts.build(resolved, flux2) + " "
    # The user's own choice still wins over the variant's default.
    resolved = config.resolve(config.check(raw_config(flux2, "klein-9b", samples={
        "every_n_epochs": 1, "steps": 8, "guidance": 1.5, "prompts": ["a cat"]})))
    line = sample_prompts.build(resolved, flux2).splitlines()[1]
    assert " --s 8" in line and " --g 1.5" in line


def test_a_guidance_the_sampler_ignores_is_refused():
    qwen = task_types.get("qwen-image-lora")
    err = refused(raw_config(qwen, "original", samples={"every_n_epochs": 1,
                                                        "prompts": [{"prompt": "a cat", "guidance": 3.0}]}))
    assert err.details["field"] == "samples.prompts.0.guidance"


# --- 4. Wan: the DiT's stored dtype decides mixed precision; fp8 files cannot take --fp8_scaled -----

def wan_dit(path: Path, dtype: str, key: str = "blocks.0.cross_attn.k.weight") -> str:
    write_file(path, {key: (dtype, [4, 4]), "head.head.weight": ("F32", [4])})
    return str(path)


def wan22_raw(tmp_path, low_dtype, high_dtype=None, preset="high", **training):
    wan = task_types.get("wan2.2-lora")
    raw = raw_config(wan, "t2v-A14B", preset, training=training)
    raw["models"]["dit"] = wan_dit(tmp_path / "low.safetensors", low_dtype)
    raw["models"]["dit_high_noise"] = wan_dit(tmp_path / "high.safetensors", high_dtype or low_dtype)
    return raw


def accelerate_precision(plan) -> str:
    argv = plan.stages[2].argv
    return argv[argv.index("--mixed_precision") + 1]


def test_fp16_wan_dit_trains_in_fp16(tmp_path):
    plan = plan_for(wan22_raw(tmp_path, "F16"))
    assert train_values(plan)["mixed_precision"] == "fp16" and accelerate_precision(plan) == "fp16"
    assert any("fp16" in w for w in plan.warnings)
    plan = plan_for(wan22_raw(tmp_path, "BF16", mixed_precision="fp16"))
    assert train_values(plan)["mixed_precision"] == "bf16" and accelerate_precision(plan) == "bf16"
    plan = plan_for(wan22_raw(tmp_path, "BF16"))
    assert train_values(plan)["mixed_precision"] == "bf16" and not any("precision" in w for w in plan.warnings)
    # The 1.3B checkpoint keeps its tensors under the ComfyUI prefix; musubi looks there too.
    wan21 = task_types.get("wan2.1-lora")
    raw = raw_config(wan21, "t2v-1.3B", "high")
    raw["models"]["dit"] = wan_dit(tmp_path / "small.safetensors", "F16",
                                   "model.diffusion_model.blocks.0.cross_attn.k.weight")
    assert train_values(plan_for(raw))["mixed_precision"] == "fp16"


def test_fp8_wan_dit_refuses_fp8_scaled(tmp_path):
    err = refused(wan22_raw(tmp_path, "BF16", "F8_E4M3", preset="medium"))
    assert (err.code, err.details["field"], err.details["model"]) == (
        "dit_already_fp8", "training.fp8_scaled", "dit_high_noise")
    plan = plan_for(wan22_raw(tmp_path, "F8_E4M3", preset="custom", fp8_base=True, fp8_scaled=False))
    assert train_values(plan)["fp8_base"] is True


# --- 5. Wan 2.2 VRAM with both experts -------------------------------------------------------------

@pytest.mark.parametrize("variant", ["t2v-A14B", "i2v-A14B"])
def test_wan22_presets_fit_24_and_16_gb_cards(variant):
    wan = task_types.get("wan2.2-lora")
    figures = {p: plan_for(raw_config(wan, variant, p), "video").vram_estimate_gb for p in task_types.PRESETS}
    assert figures["medium"] <= 24 and figures["low"] <= 16, figures


def test_wan22_block_swap_leaves_the_gpu_from_both_experts():
    wan = task_types.get("wan2.2-lora")

    def estimate(**training):
        resolved = config.resolve(config.check(raw_config(wan, "t2v-A14B", "custom", training=training)))
        return vram.estimate_gb(wan, resolved, "video")

    base = dict(fp8_base=True, fp8_scaled=True)
    model = wan.vram_model("t2v-A14B")
    block = model.weights_fp8_gb / (wan.max_swap("t2v-A14B") + 1)
    both = estimate(**base, blocks_to_swap=0) - estimate(**base, blocks_to_swap=20)
    one = estimate(**base, experts="low", blocks_to_swap=0) - estimate(**base, experts="low", blocks_to_swap=20)
    assert both == pytest.approx(2 * 20 * block, abs=0.15) and one == pytest.approx(20 * block, abs=0.15)
    # Offloading the inactive expert keeps one expert on the GPU.
    assert estimate(**base, offload_inactive_dit=True) == pytest.approx(estimate(**base, experts="low"), abs=0.05)


def test_offload_inactive_dit_warns_about_main_memory_and_refuses_block_swap():
    wan = task_types.get("wan2.2-lora")
    plan = plan_for(raw_config(wan, "t2v-A14B", "high", training={"offload_inactive_dit": True}))
    assert any("96 GB" in w for w in plan.warnings)
    err = refused(raw_config(wan, "t2v-A14B", "low", training={"offload_inactive_dit": True}))
    assert (err.code, err.details["field"]) == ("offload_with_block_swap", "training.offload_inactive_dit")


# --- 2. Resume keeps the original LR schedule ------------------------------------------------------

def make_task(tmp_path, training, progress=None, name="Cat"):
    qwen = task_types.get("qwen-image-lora")
    cfg = config.check(raw_config(qwen, "original", name=name, training=training))
    return {"id": "task_1", "config": cfg, "run": {}, "progress": progress or {}}


def resumed(tmp_path, task, mode="state"):
    paths = TaskPaths(tmp_path)
    resume, _ = planning.resume_point(task, paths, mode)
    return resume, plan_for(task["config"], resume=resume)


@pytest.mark.parametrize("scheduler, factory, expected", [
    ("linear", "transformers.optimization.get_linear_schedule_with_warmup",
     ["num_warmup_steps=10", "num_training_steps=100"]),
    ("cosine", "transformers.optimization.get_cosine_schedule_with_warmup",
     ["num_warmup_steps=10", "num_training_steps=100"]),
    ("cosine_with_restarts", "transformers.optimization.get_cosine_with_hard_restarts_schedule_with_warmup",
     ["num_warmup_steps=10", "num_training_steps=100", "num_cycles=3"]),
    ("polynomial", "transformers.optimization.get_polynomial_decay_schedule_with_warmup",
     ["num_warmup_steps=10", "num_training_steps=100", "power=1.0"]),
    ("warmup_stable_decay", "transformers.optimization.get_wsd_schedule",
     ["num_warmup_steps=10", "num_stable_steps=90", "num_decay_steps=0", "num_cycles=1.5", "min_lr_ratio=0.0"]),
    ("rex", "musubi_tuner.modules.lr_schedulers.RexLR",
     ["max_lr=0.0001", f"min_lr={1e-4 * 0.01!r}", "num_steps=100", "num_warmup_steps=10"]),  # as musubi computes it
])
def test_resumed_state_rebuilds_the_schedule_over_the_original_steps(tmp_path, scheduler, factory, expected):
    saved_state(tmp_path / "output" / "Cat-step00000040-state")
    training = {"max_train_epochs": None, "max_train_steps": 100, "save_every_n_steps": 20, "lr_scheduler": scheduler,
                "lr_warmup_steps": 10, "lr_scheduler_num_cycles": 3, "learning_rate": 1e-4}
    resume, plan = resumed(tmp_path, make_task(tmp_path, training))
    values = train_values(plan)
    assert values["max_train_steps"] == 60  # musubi's loop runs what is left ...
    assert values["lr_scheduler_type"] == factory  # ... the schedule is the whole run's
    assert values["lr_scheduler_args"] == expected
    assert values["resume"].endswith("Cat-step00000040-state")


def test_resumed_epochs_use_the_step_count_musubi_reported(tmp_path):
    saved_state(tmp_path / "output" / "Cat-000002-state")
    training = {"max_train_epochs": 4, "lr_scheduler": "cosine"}
    task = make_task(tmp_path, training, progress={"total_steps": 12, "total_epochs": 4})
    _, plan = resumed(tmp_path, task)
    values = train_values(plan)
    assert values["max_train_epochs"] == 2 and "num_training_steps=12" in values["lr_scheduler_args"]
    # Two GPUs: musubi steps the scheduler once per process.
    task["config"]["gpus"] = [0, 1]
    assert "num_training_steps=24" in train_values(resumed(tmp_path, task)[1])["lr_scheduler_args"]


def test_resume_without_the_total_is_refused_and_other_ways_offered(tmp_path):
    saved_state(tmp_path / "output" / "Cat-000002-state")
    write_file(tmp_path / "output" / "Cat-000002.safetensors", {"lora_unet_x.alpha": ("F32", [])})
    task = make_task(tmp_path, {"max_train_epochs": 4, "lr_scheduler": "linear"})
    with pytest.raises(ValidationError) as err:
        resumed(tmp_path, task)
    assert (err.value.code, err.value.details["field"]) == ("resume_schedule_unknown", "resume")
    assert "weights" in err.value.message
    _, plan = resumed(tmp_path, task, mode="weights")  # continuing from the weights still works
    assert "lr_scheduler_type" not in train_values(plan)


@pytest.mark.parametrize("scheduler", ["constant", "constant_with_warmup", "inverse_sqrt"])
def test_schedules_that_ignore_the_total_resume_as_they_are(tmp_path, scheduler):
    saved_state(tmp_path / "output" / "Cat-000002-state")
    warmup = 0 if scheduler == "constant" else 5
    task = make_task(tmp_path, {"max_train_epochs": 4, "lr_scheduler": scheduler, "lr_warmup_steps": warmup})
    values = train_values(resumed(tmp_path, task)[1])
    assert "lr_scheduler_type" not in values and values["lr_scheduler"] == scheduler
    assert not lr_schedules.follows_total(config.resolve(task["config"])["training"])


# --- 10. HunyuanVideo files as musubi's docs name them ---------------------------------------------

def test_hunyuan_video_accepts_documented_pt_files_and_encoder_folders(tmp_path):
    hv = task_types.get("hunyuan-video-lora")
    raw = raw_config(hv, "t2v", "high")
    for key, name in (("dit", "mp_rank_00_model_states.pt"), ("vae", "pytorch_model.pt")):
        (tmp_path / name).write_bytes(b"pickle")
        raw["models"][key] = str(tmp_path / name)
    for key in ("text_encoder1", "text_encoder2"):
        (tmp_path / key).mkdir()
        raw["models"][key] = str(tmp_path / key)
    plan = plan_for(raw, "video", check_files=True)
    assert train_values(plan)["text_encoder1"] == str(tmp_path / "text_encoder1")


# --- issue 16: architecture facts are table fields -------------------------------------------------

def test_no_architecture_name_branches_in_the_builder():
    root = Path(__file__).resolve().parents[2] / "server"
    for rel in ("training/commands.py", "training/vram.py", "training/catalog.py", "models/checks.py"):
        text = (root / rel).read_text(encoding="utf-8")
        for needle in ('startswith("qwen-image")', '"wan2.2" in', "WAN22_ONLY", 'script == "'):
            assert needle not in text, (rel, needle)
