"""The CLI-contract checker itself: it must reject what musubi's argparse (and code) would reject."""

from __future__ import annotations

from server.training import cli_spec

TRAIN = "qwen_image_train_network"
BASE = ["--dit", "/m/dit.safetensors", "--dataset_config", "/t/dataset.toml", "--network_module",
        "networks.lora_qwen_image", "--output_dir", "/t/output", "--output_name", "lora", "--sdpa",
        "--optimizer_type", "AdamW8bit"]


def flags(problems):
    return [p.flag for p in problems]


def test_base_command_is_valid():
    assert cli_spec.check(TRAIN, BASE) == []


def test_unknown_and_abbreviated_flags():
    assert flags(cli_spec.check(TRAIN, BASE + ["--no_such_flag"])) == ["--no_such_flag"]
    problems = cli_spec.check(TRAIN, BASE + ["--fp8"])
    assert flags(problems) == ["--fp8"] and "full name" in problems[0].message


def test_types_choices_nargs():
    assert flags(cli_spec.check(TRAIN, BASE + ["--network_dim", "big"])) == ["--network_dim"]
    assert flags(cli_spec.check(TRAIN, BASE + ["--mixed_precision", "fp32"])) == ["--mixed_precision"]
    assert flags(cli_spec.check(TRAIN, BASE + ["--learning_rate"])) == ["--learning_rate"]
    assert flags(cli_spec.check(TRAIN, BASE + ["--sdpa"])) == ["--sdpa"]  # twice
    assert cli_spec.check(TRAIN, BASE + ["--network_args", "a=1", "b=2", "--lr_warmup_steps", "0.5",
                                         "--lr_scheduler", "cosine"]) == []
    assert flags(cli_spec.check(TRAIN, BASE + ["--gradient_checkpointing", "yes"])) == ["yes"]


def test_required_options_of_cache_scripts():
    assert flags(cli_spec.check("qwen_image_cache_text_encoder_outputs", ["--dataset_config", "x"])) == [
        "--text_encoder"]
    assert flags(cli_spec.check("convert_lora", ["--input", "a", "--output", "b"])) == ["--target"]
    assert flags(cli_spec.check("convert_lora", ["--input", "a", "--output", "b", "--target", "x"])) == ["--target"]


def test_cross_rules():
    def rule_flags(extra, base=BASE):
        return flags(cli_spec.check(TRAIN, [a for a in base if a not in extra.get("drop", [])] + extra.get("add", [])))

    assert rule_flags({"add": ["--fp8_scaled"]}) == ["--fp8_scaled"]
    assert rule_flags({"add": ["--fp8_scaled", "--fp8_base"]}) == []
    assert rule_flags({"add": ["--sage_attn"]}) == ["--sage_attn", "--sdpa"]
    assert rule_flags({"drop": ["--sdpa"]}) == ["--sdpa"]
    assert rule_flags({"drop": ["--sdpa"], "add": ["--xformers"]}) == ["--split_attn"]
    assert rule_flags({"drop": ["--optimizer_type", "AdamW8bit"]}) == ["--optimizer_type"]
    assert rule_flags({"add": ["--lr_warmup_steps", "10"]}) == ["--lr_warmup_steps"]
    assert rule_flags({"add": ["--lr_warmup_steps", "10", "--lr_scheduler", "constant_with_warmup"]}) == []
    assert rule_flags({"drop": ["--dit", "/m/dit.safetensors"]}) == ["--dit"]
    assert rule_flags({"add": ["--sample_prompts", "p.txt"]}) == ["--sample_prompts"]
    wan = BASE[:4] + ["--network_module", "networks.lora_wan"] + BASE[6:] + ["--task", "t2v-A14B"]
    assert flags(cli_spec.check("wan_train_network", wan + ["--offload_inactive_dit", "--dit_high_noise", "h",
                                                            "--blocks_to_swap", "4"])) == ["--offload_inactive_dit"]
    assert flags(cli_spec.check("flux_2_cache_text_encoder_outputs",
                                ["--dataset_config", "d", "--text_encoder", "t", "--fp8_text_encoder"])) == [
        "--fp8_text_encoder"]


def test_accelerate_options():
    assert cli_spec.check_accelerate(["--num_cpu_threads_per_process", "1", "--mixed_precision", "bf16"]) == []
    assert flags(cli_spec.check_accelerate(["--mixed_precision", "fp8"])) == ["--mixed_precision"]
    assert flags(cli_spec.check_accelerate(["--num_machines", "2"])) == ["--num_machines"]
    assert flags(cli_spec.check_accelerate(["--tee", "1"])) == ["--tee"]   # only 3: both streams of every rank


def test_packaged_spec_is_the_fixture_and_the_shared_contract():
    """One contract: the copy the app ships is the test fixture, and holds ../shared/musubi's unchanged. It also has
    the scripts the shared one lacks (HiDream-O1, Ideogram 4), written from the real parsers by update_cli_spec.py;
    test_real_musubi.py checks every entry against them."""
    import json
    from pathlib import Path

    from server.training import task_types

    root = Path(__file__).resolve().parents[2]
    packaged = cli_spec.SPEC_PATH.read_bytes()
    assert packaged == (root / "tests" / "fixtures" / "musubi-cli-spec.json").read_bytes()
    shared = root.parent / "shared" / "musubi" / "cli-spec.json"
    if shared.is_file():  # present on developer machines and in CI beside the clone
        ours, theirs = json.loads(packaged), json.loads(shared.read_bytes())
        assert {k: v for k, v in ours.items() if k != "scripts"} == {k: v for k, v in theirs.items() if k != "scripts"}, \
            "the pinned musubi version moved: re-run tests/training/update_cli_spec.py"
        assert {k: ours["scripts"][k] for k in theirs["scripts"]} == theirs["scripts"]
        used = {f"{cli_spec.SCRIPT_PREFIX}{s}.py" for t in task_types.TASK_TYPES.values() for s in t.scripts.values()}
        assert set(ours["scripts"]) - set(theirs["scripts"]) <= used
