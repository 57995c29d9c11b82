"""The command builder against musubi's CLI contract, for every task type x variant x VRAM preset x
accepted dataset type, and the refusals that name the field to fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.errors import ValidationError
from server.training import cli_spec, task_types
from server.training.musubi_env import LAUNCH_MODULE

from .helpers import ENV, PATHS, all_combinations, combo_id, network_combinations, plan_for, raw_config, script_args

FIXTURE_SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "musubi-cli-spec.json"
COMBOS = list(all_combinations())


def test_packaged_spec_is_the_fixture():
    assert json.loads(cli_spec.SPEC_PATH.read_text()) == json.loads(FIXTURE_SPEC.read_text())


def test_every_table_script_exists_in_the_spec():
    spec = cli_spec.load_spec()
    for ttype in task_types.TASK_TYPES.values():
        names = [s.name for s in ttype.stages]
        # Known stages, each once, in run order, training last.
        assert names == sorted(set(names), key=task_types.STAGES.index) and names[-1] == "train"
        assert [task_types.cache_kind(n) for n in names[:-1]] == ["media", "text"]
        for script in ttype.scripts.values():
            assert script in spec, f"{ttype.id}: {script}"


@pytest.mark.parametrize("combo", COMBOS, ids=[combo_id(c) for c in COMBOS])
def test_every_combination_builds_a_valid_command(combo):
    ttype, variant, preset, dataset_type = combo
    plan = plan_for(raw_config(ttype, variant, preset), dataset_type)
    assert [s.name for s in plan.stages] == [s.name for s in ttype.stages]
    for stage in plan.stages:
        args = script_args(stage)
        # Independent re-check of the contract (the builder already refuses invalid commands).
        assert cli_spec.check(stage.script, args) == [], (stage.name, args)
        assert all(isinstance(a, str) for a in stage.argv)
        assert stage.env["CUDA_VISIBLE_DEVICES"] == "0" and stage.env["PYTHONUNBUFFERED"] == "1"
        assert stage.argv[1] == str(ENV.script(stage.script)) or stage.name == "train"
    train = plan.stages[-1]
    assert train.argv[:3] == [str(ENV.python), "-m", LAUNCH_MODULE]
    assert train.argv[3:5] == ["--num_cpu_threads_per_process", "1"]
    values, _ = cli_spec.parse(train.script, script_args(train))
    assert values["network_module"] == ttype.network_module
    assert values["optimizer_type"]
    expected = ttype.preset(preset, variant)
    assert bool(values.get("fp8_base")) == expected["fp8_base"]
    assert (values.get("blocks_to_swap") or 0) == expected["blocks_to_swap"]
    assert values.get("blocks_to_swap", 0) <= ttype.max_swap(variant)
    assert values["sample_prompts"] == str(PATHS.sample_prompts)
    assert "sample_prompts.txt" in plan.files and "dataset.toml" in plan.files
    assert plan.vram_estimate_gb > 0


NETWORKS = list(network_combinations())


@pytest.mark.parametrize("ttype, network_type", NETWORKS, ids=[f"{t.id}-{n}" for t, n in NETWORKS])
def test_every_network_type_trains_with_its_module(ttype, network_type):
    variant = ttype.variants[0].key
    raw = raw_config(ttype, variant, training={"network_type": network_type, "network_args": ["verbose=True"]})
    train = plan_for(raw, ttype.accepted_dataset_types(variant)[0]).stages[-1]
    values, _ = cli_spec.parse(train.script, script_args(train))
    expected = {"lora": ttype.network_module, "loha": "networks.loha", "lokr": "networks.lokr"}[network_type]
    assert values["network_module"] == expected
    assert values["network_args"] == ["verbose=True"]


def test_lycoris_refusals():
    qwen = task_types.get("qwen-image-lora")
    raw = raw_config(qwen, "original", training={"network_type": "lokr", "network_args": ["loraplus_lr_ratio=4"]})
    with pytest.raises(ValidationError) as err:
        plan_for(raw)
    assert (err.value.code, err.value.details["field"]) == ("loraplus_needs_lora", "training.network_args")
    # LoRA+ stays available to LoRA; LoKr's own factor goes through.
    plan_for(raw_config(qwen, "original", training={"network_args": ["loraplus_lr_ratio=4"]}))
    plan_for(raw_config(qwen, "original", training={"network_type": "lokr", "network_args": ["factor=4"]}))
    only_lora = [t for t in task_types.TASK_TYPES.values() if t.network_types == ("lora",)]
    for ttype in only_lora:
        variant = ttype.variants[0].key
        with pytest.raises(ValidationError) as err:
            plan_for(raw_config(ttype, variant, training={"network_type": "loha"}),
                     ttype.accepted_dataset_types(variant)[0])
        assert (err.value.code, err.value.details["field"]) == ("network_type_unsupported", "training.network_type")


def test_presets_lower_the_estimate():
    for ttype in task_types.TASK_TYPES.values():
        for variant in ttype.variants:
            figures = [plan_for(raw_config(ttype, variant.key, p), ttype.accepted_dataset_types(variant.key)[0])
                       .vram_estimate_gb for p in task_types.PRESETS]
            assert figures[0] > figures[1] >= figures[2], (ttype.id, variant.key, figures)


def test_qwen_estimate_matches_published_figures():
    qwen = task_types.get("qwen-image-lora")
    cases = [({"vram_preset": "high"}, 42), ({"vram_preset": "custom", "training": {"fp8_base": True,
              "fp8_scaled": True}}, 30),
             ({"vram_preset": "custom", "training": {"fp8_base": True, "fp8_scaled": True, "blocks_to_swap": 16}}, 24),
             ({"vram_preset": "custom", "training": {"fp8_base": True, "fp8_scaled": True, "blocks_to_swap": 45}}, 12)]
    for overrides, published in cases:
        plan = plan_for(raw_config(qwen, "original", **overrides))
        assert abs(plan.vram_estimate_gb - published) <= 1.0, (overrides, plan.vram_estimate_gb)


def test_cache_stages_carry_model_files_and_variant():
    edit = task_types.get("qwen-image-edit-lora")
    plan = plan_for(raw_config(edit, "edit-2509", "low"), "image_control")
    latents, te, train = plan.stages
    assert script_args(latents)[-3:] == ["--model_version", "edit-2509", "--skip_existing"]
    assert "--vae" in latents.argv and "--text_encoder" in te.argv and "--fp8_vl" in te.argv
    assert train.argv[train.argv.index("--model_version") + 1] == "edit-2509"


def test_wan22_experts():
    wan = task_types.get("wan2.2-lora")
    both = plan_for(raw_config(wan, "t2v-A14B", "high", training={"experts": "both"})).stages[2].argv
    assert both[both.index("--timestep_boundary") + 1] == "875"
    assert both[both.index("--dit") + 1].endswith("/dit.safetensors")
    assert both[both.index("--dit_high_noise") + 1].endswith("/dit_high_noise.safetensors")
    high = plan_for(raw_config(wan, "i2v-A14B", "high", training={"experts": "high"}), "video").stages[2].argv
    assert high[high.index("--dit") + 1].endswith("/dit_high_noise.safetensors")
    assert "--dit_high_noise" not in high
    assert high[high.index("--min_timestep") + 1] == "900" and high[high.index("--max_timestep") + 1] == "1000"
    low = plan_for(raw_config(wan, "t2v-A14B", "high", training={"experts": "low"})).stages[2].argv
    assert low[low.index("--max_timestep") + 1] == "875"
    offload = plan_for(raw_config(wan, "t2v-A14B", "high", training={"offload_inactive_dit": True}))
    assert "--offload_inactive_dit" in offload.stages[2].argv


def test_wan21_i2v_needs_clip_and_i2v_latents():
    wan = task_types.get("wan2.1-lora")
    plan = plan_for(raw_config(wan, "i2v-14B", "medium"), "video")
    assert "--i2v" in plan.stages[0].argv and "--clip" in plan.stages[0].argv
    raw = raw_config(wan, "i2v-14B", "medium")
    del raw["models"]["clip"]
    with pytest.raises(ValidationError) as err:
        plan_for(raw, "video")
    assert err.value.details["field"] == "models.clip"


def test_no_sampling_drops_sampling_only_models():
    qwen = task_types.get("qwen-image-lora")
    raw = raw_config(qwen, "original", sampling=False)
    train = plan_for(raw).stages[2]
    assert "--vae" not in train.argv and "--sample_prompts" not in train.argv
    assert "--text_encoder" not in train.argv and "--dit" in train.argv


def test_resume_reduces_duration_and_points_at_state():
    qwen = task_types.get("qwen-image-lora")
    plan = plan_for(raw_config(qwen, "original"), resume={"mode": "state", "path": "/x/lora-000004-state",
                                                         "max_train_epochs": 12, "output_name": "Test_LoRA-r1"})
    argv = plan.stages[2].argv
    assert argv[argv.index("--resume") + 1] == "/x/lora-000004-state"
    assert argv[argv.index("--max_train_epochs") + 1] == "12"
    assert argv[argv.index("--output_name") + 1] == "Test_LoRA-r1"


@pytest.mark.parametrize("task_type, variant, change, field_name", [
    ("qwen-image-lora", "original", {"training": {"blocks_to_swap": 60}}, "training.blocks_to_swap"),
    ("qwen-image-lora", "original", {"training": {"lr_warmup_steps": 100}}, "training.lr_warmup_steps"),
    ("hunyuan-video-lora", "t2v", {"vram_preset": "custom", "training": {"fp8_base": True, "fp8_scaled": True}},
     "training.fp8_scaled"),
    ("flux2-lora", "dev", {"vram_preset": "custom", "training": {"fp8_text_encoder": True}},
     "training.fp8_text_encoder"),
    ("qwen-image-lora", "original", {"vram_preset": "custom", "training": {"fp8_scaled": True}},
     "training.fp8_scaled"),
    ("qwen-image-lora", "original", {"training": {"max_train_epochs": None}}, "training.max_train_epochs"),
    ("wan2.2-lora", "t2v-A14B", {"training": {"experts": "high", "offload_inactive_dit": True}},
     "training.offload_inactive_dit"),
    ("wan2.2-lora", "t2v-A14B", {"vram_preset": "low", "training": {"offload_inactive_dit": True}},
     "training.offload_inactive_dit"),
    ("wan2.1-lora", "t2v-14B", {"training": {"offload_inactive_dit": True}}, "training.offload_inactive_dit"),
    ("qwen-image-lora", "original", {"training": {"optimizer_type": "Lion"}}, "training.optimizer_type"),
    ("qwen-image-lora", "original", {"training": {"learning_rate": "fast"}}, "training.learning_rate"),
    ("qwen-image-lora", "original", {"training": {"bogus": 1}}, "training.bogus"),
    ("qwen-image-lora", "original", {"variant": "edit"}, "variant"),
    ("qwen-image-lora", "original", {"name": ""}, "name"),
    ("kontext-lora", "dev", {"samples": {"every_n_epochs": 1, "prompts": [{"prompt": "x"}]}},
     "samples.prompts.0.control_images"),
    ("qwen-image-lora", "original", {"samples": {"every_n_epochs": 1, "prompts": [{"prompt": "a --w 5"}]}},
     "samples.prompts.0.prompt"),
    ("qwen-image-lora", "original", {"dataset": {"resolution": [10, 10]}}, "dataset.resolution"),
])
def test_refusals_name_the_field(task_type, variant, change, field_name):
    ttype = task_types.get(task_type)
    raw = raw_config(ttype, variant, "medium")
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    dataset_type = ttype.accepted_dataset_types(variant if variant in [v.key for v in ttype.variants] else None)[0]
    with pytest.raises(ValidationError) as err:
        plan_for(raw, dataset_type)
    assert err.value.details["field"] == field_name, err.value.message


def test_wrong_dataset_type_is_refused():
    kontext = task_types.get("kontext-lora")
    with pytest.raises(ValidationError) as err:
        plan_for(raw_config(kontext, "dev"), "image")
    assert err.value.details["field"] == "dataset_id"


def test_missing_model_file_refused_only_when_starting(tmp_path):
    qwen = task_types.get("qwen-image-lora")
    plan = plan_for(raw_config(qwen, "original"))
    assert any("not found" in w for w in plan.warnings)
    with pytest.raises(ValidationError) as err:
        plan_for(raw_config(qwen, "original"), check_files=True)
    assert err.value.details["field"].startswith("models.")


def test_xformers_gets_split_attn():
    qwen = task_types.get("qwen-image-lora")
    argv = plan_for(raw_config(qwen, "original", training={"attention": "xformers"})).stages[2].argv
    assert "--xformers" in argv and "--split_attn" in argv and "--sdpa" not in argv


def test_output_name_keeps_letters_of_any_script_and_nothing_unsafe():
    from server.training.commands import output_name

    assert output_name("猫 LoRA") == "猫_LoRA"
    assert output_name("my-style v2") == "my_style_v2"
    assert output_name('a/b\\c:d*e?f"g<h>i|j') == "a_b_c_d_e_f_g_h_i_j"
    assert output_name("///") == "lora"


def test_one_frame_types_write_their_indices_options_and_prompt():
    fpack = task_types.get("framepack-1f-lora")
    plan = plan_for(raw_config(fpack, "original", dataset={"fp_1f_clean_indices": [0, 10], "fp_1f_target_index": 1,
                                                           "fp_1f_no_post": True}), "image_control")
    toml = plan.files["dataset.toml"]
    assert "fp_1f_clean_indices = [0, 10]" in toml and "fp_1f_target_index = 1" in toml
    assert "fp_1f_no_post = true" in toml
    latents, _, train = plan.stages
    assert "--one_frame" in script_args(latents) and "--one_frame" in script_args(train)
    prompt = plan.files["sample_prompts.txt"].splitlines()[1]
    assert prompt.endswith("--of target_index=9,control_index=0") and " --f 1 " in prompt and " --ci " in prompt
    wan = task_types.get("wan2.1-1f-lora")
    flf2v = plan_for(raw_config(wan, "flf2v-14B"), "image_control")
    assert "fp_1f_clean_indices = [0, 2]" in flf2v.files["dataset.toml"]
    assert "--of target_index=1,control_index=0;2" in flf2v.files["sample_prompts.txt"]
    assert script_args(flf2v.stages[2])[script_args(flf2v.stages[2]).index("--task") + 1] == "flf2v-14B"
    # A prompt's own --of wins over the default.
    own = raw_config(wan, "i2v-14B")
    own["samples"]["prompts"][0]["one_frame"] = "target_index=5,control_index=0"
    assert "--of target_index=5,control_index=0\n" in plan_for(own, "image_control").files["sample_prompts.txt"]


@pytest.mark.parametrize("task_type, variant, dataset, field_name", [
    ("framepack-1f-lora", "original", {"fp_1f_clean_indices": None}, "dataset.fp_1f_clean_indices"),
    ("framepack-1f-lora", "original", {"fp_1f_target_index": None}, "dataset.fp_1f_target_index"),
    ("framepack-1f-lora", "original", {"fp_1f_clean_indices": [-1]}, "dataset.fp_1f_clean_indices"),
    # One-frame indices on a type that does not train one frame would change musubi's buckets silently.
    ("qwen-image-edit-lora", "edit", {"fp_1f_clean_indices": [0]}, "dataset.fp_1f_clean_indices"),
    ("kontext-lora", "dev", {"fp_1f_no_post": True}, "dataset.fp_1f_no_post"),
])
def test_one_frame_settings_refused_where_they_do_not_fit(task_type, variant, dataset, field_name):
    ttype = task_types.get(task_type)
    with pytest.raises(ValidationError) as err:
        plan_for(raw_config(ttype, variant, dataset=dataset), "image_control")
    assert err.value.details["field"] == field_name


def test_framepack_trains_one_section_whatever_the_clip_length():
    fpack = task_types.get("framepack-lora")
    short, long = (plan_for(raw_config(fpack, "original", dataset={"target_frames": [frames]}), "video")
                   for frames in (1, 129))
    assert short.vram_estimate_gb == long.vram_estimate_gb
    hv = task_types.get("hunyuan-video-lora")
    short, long = (plan_for(raw_config(hv, "t2v", dataset={"target_frames": [frames]}), "video") for frames in (1, 129))
    assert short.vram_estimate_gb < long.vram_estimate_gb


def test_qwen_image_layered_reads_multiple_targets_and_samples_layers():
    layered = task_types.get("qwen-image-layered-lora")
    plan = plan_for(raw_config(layered, "layered", training={"remove_first_image_from_target": True}))
    assert "multiple_target = true" in plan.files["dataset.toml"]
    latents, te, train = plan.stages
    for stage in (latents, te, train):
        args = script_args(stage)
        assert args[args.index("--model_version") + 1] == "layered"
    assert "--remove_first_image_from_target" in train.argv
    assert " --f 4 " in plan.files["sample_prompts.txt"] and " --ci " in plan.files["sample_prompts.txt"]
    two = raw_config(layered, "layered")
    two["samples"]["prompts"][0]["control_images"] = ["/p/a.png", "/p/b.png"]
    with pytest.raises(ValidationError) as err:
        plan_for(two)
    assert err.value.details["field"] == "samples.prompts.0.control_images"
    # Neither the option nor multiple_target reach another Qwen type.
    qwen = task_types.get("qwen-image-lora")
    assert "multiple_target" not in plan_for(raw_config(qwen, "original")).files["dataset.toml"]
    with pytest.raises(ValidationError) as err:
        plan_for(raw_config(qwen, "original", training={"remove_first_image_from_target": True}))
    assert err.value.details["field"] == "training.remove_first_image_from_target"


def test_krea2_turbo_samples_only_without_block_swap_and_fp8_only_scaled():
    krea = task_types.get("krea2-lora")
    raw = raw_config(krea, "raw", "high")
    raw["models"]["turbo_dit"] = "/models/turbo.safetensors"
    train = plan_for(raw).stages[2]
    assert script_args(train)[script_args(train).index("--turbo_dit") + 1] == "/models/turbo.safetensors"
    assert "--turbo_dit" not in plan_for({**raw, "samples": {}}).stages[2].argv  # no samples: not needed
    with pytest.raises(ValidationError) as err:
        plan_for({**raw, "vram_preset": "low"})
    assert (err.value.code, err.value.details) == ("model_excludes_block_swap",
                                                  {"model": "turbo_dit", "field": "training.blocks_to_swap"})
    plan_for({**raw, "vram_preset": "low", "samples": {}})  # swapping is fine when Turbo is not used
    with pytest.raises(ValidationError) as err:
        plan_for(raw_config(krea, "raw", "custom", training={"fp8_base": True}))
    assert (err.value.code, err.value.details["field"]) == ("fp8_needs_scaled", "training.fp8_scaled")
