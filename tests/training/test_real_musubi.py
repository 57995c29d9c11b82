"""The commands the app builds, checked by the real musubi-tuner's own code (musubi_probe.py, run with its
Python): its argparse parsers, and its LR scheduler across a --resume.

Needs a musubi-tuner environment with torch: the one tests/realtrainer builds through the app's setup job
into LORA_WORKBENCH_TEST_CACHE (default ~/.cache/lora-workbench-tests), found by its ready.json. Without
one these tests are skipped and the CLI contract (cli-spec.json, test_commands.py) stands in.
wan_* and fpack_* modules need torch.cuda.current_device() at import (FACTS.md): the probe answers it on a CPU.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from server.training import config, planning, task_types
from server.training.commands import TaskPaths

from .helpers import all_combinations, network_combinations, plan_for, raw_config, saved_state, script_args

PROBE = Path(__file__).resolve().parent / "musubi_probe.py"


def musubi_ready() -> dict:
    """The ready.json of a built trainer environment: its python and musubi_dir."""
    root = Path(os.environ.get("LORA_WORKBENCH_TEST_CACHE") or Path.home() / ".cache" / "lora-workbench-tests")
    for ready in sorted(root.glob("trainer-*/ready.json")):
        info = json.loads(ready.read_text(encoding="utf-8"))
        if info.get("python") and Path(info["python"]).is_file():
            return info
    pytest.skip("no real musubi-tuner environment (tests/realtrainer builds one)")


def musubi_python() -> str:
    return musubi_ready()["python"]


def probe(request: dict) -> dict:
    res = subprocess.run([musubi_python(), str(PROBE)], input=json.dumps(request), capture_output=True, text=True,
                         timeout=600, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return json.loads(res.stdout.rpartition("@@RESULT@@")[2])


def test_every_command_parses_with_musubis_own_parsers():
    commands = []
    for ttype, variant, preset, dataset_type in all_combinations():
        for stage in plan_for(raw_config(ttype, variant, preset), dataset_type).stages:
            commands.append((stage.script, script_args(stage)))
    for ttype, network_type in network_combinations():
        variant = ttype.variants[0].key
        if network_type == "lora":
            continue
        raw = raw_config(ttype, variant, training={"network_type": network_type, "network_args": ["factor=4"]})
        train = plan_for(raw, ttype.accepted_dataset_types(variant)[0]).stages[-1]
        commands.append((train.script, script_args(train)))
    # Options the default configs leave off: FramePack one-frame's cache without the 2x/4x clean latents.
    fpack_1f = task_types.get("framepack-1f-lora")
    raw = raw_config(fpack_1f, "original", training={"one_frame_no_2x": True, "one_frame_no_4x": True})
    for stage in plan_for(raw, "image_control").stages:
        commands.append((stage.script, script_args(stage)))
    # The probe itself must see a rejection: an unknown option.
    answers = probe({"parse": [*commands, ("zimage_train_network", ["--no_such_option"])]})["parse"]
    assert "--no_such_option" in answers.pop()
    failures = [(script, args, err) for (script, args), err in zip(commands, answers) if err]
    assert not failures, failures[:3]
    assert len(commands) > 100


def test_the_cli_contract_is_what_musubis_parsers_define():
    """cli-spec.json, which every command is checked against, against the real parsers of every script the
    table uses (flags, types, nargs, choices, required, defaults): a stale contract would pass commands musubi
    refuses. tests/training/update_cli_spec.py writes it from the same probe answer."""
    from server.training import cli_spec

    raw = json.loads(cli_spec.SPEC_PATH.read_text(encoding="utf-8"))["scripts"]
    scripts = sorted({s for t in task_types.TASK_TYPES.values() for s in t.scripts.values()} | {"convert_lora"})
    real = probe({"specs": scripts})["specs"]
    for script in scripts:
        ours = [o for o in raw[f"src/musubi_tuner/{script}.py"] if o["flags"] != ["-h", "--help"]]
        theirs = [o for o in real[script] if o["flags"] != ["-h", "--help"]]
        assert ours == theirs, script


def test_every_dataset_config_passes_musubis_sanitizer():
    configs = {}
    for ttype, variant, _, dataset_type in all_combinations():
        toml = plan_for(raw_config(ttype, variant), dataset_type).files["dataset.toml"]
        configs.setdefault(toml, f"{ttype.id}-{variant}-{dataset_type}")
    texts = list(configs)
    answers = probe({"dataset_configs": [*texts, "[[datasets]]\nimage_directory = 1\n"]})["dataset_configs"]
    assert answers.pop() is not None
    failures = [(configs[text], err) for text, err in zip(texts, answers) if err]
    assert not failures, failures


def test_one_frame_sample_prompts_read_as_musubis_sampler_needs_them():
    """fpack/wan one-frame sampling reads sample_parameter["one_frame"] and the control images (--of, --ci)."""
    texts = []
    for type_id, variant in (("framepack-1f-lora", "original"), ("wan2.1-1f-lora", "flf2v-14B")):
        ttype = task_types.get(type_id)
        texts.append(plan_for(raw_config(ttype, variant), "image_control").files["sample_prompts.txt"])
    (fpack,), (flf2v,) = probe({"prompt_files": texts})["prompt_files"]
    assert fpack["one_frame"] == "target_index=9,control_index=0" and fpack["frame_count"] == 1
    assert fpack["image_path"] == "/prompts/start.png" and fpack["control_image_path"] == ["/prompts/control.png"]
    assert flf2v["one_frame"] == "target_index=1,control_index=0;2" and flf2v["cfg_scale"] == 5.0


def test_hunyuan_video_1_5_loras_convert_with_its_own_converter(tmp_path):
    """The argv convert.py builds for a type with its own ComfyUI converter runs musubi's script: HunyuanVideo 1.5's
    separate q/k/v LoRA layers become ComfyUI's fused qkv, and --reverse brings them back."""
    from server.models.safetensors_header import read_header
    from server.training.convert import convert_argv
    from server.training.musubi_env import MusubiEnv

    from tests.models.helpers import write_st

    info = musubi_ready()
    env = MusubiEnv(Path(info["musubi_dir"]), Path(info["python"]))
    tensors = {"lora_unet_double_blocks_0_img_mlp_fc1.lora_down.weight": ("F32", [4, 8]),
               "lora_unet_double_blocks_0_img_mlp_fc1.lora_up.weight": ("F32", [8, 4]),
               "lora_unet_double_blocks_0_img_mlp_fc1.alpha": ("F32", [])}
    for part in "qkv":
        tensors |= {f"lora_unet_double_blocks_0_img_attn_{part}.lora_down.weight": ("F32", [4, 8]),
                    f"lora_unet_double_blocks_0_img_attn_{part}.lora_up.weight": ("F32", [8, 4]),
                    f"lora_unet_double_blocks_0_img_attn_{part}.alpha": ("F32", [])}
    source = write_st(tmp_path / "hv15.safetensors", tensors, {"ss_network_module": "networks.lora_hv_1_5"})
    converter = task_types.get("hunyuan-video-1.5-lora").comfy_converter
    for src, dst, target in ((source, tmp_path / "comfy.safetensors", "other"),
                             (tmp_path / "comfy.safetensors", tmp_path / "back.safetensors", "default")):
        res = subprocess.run(convert_argv(env, src, dst, target, converter), cwd=env.musubi_dir, capture_output=True,
                             text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-2000:]
    comfy = set(read_header(tmp_path / "comfy.safetensors").tensors)
    assert "lora_unet_double_blocks_0_img_attn_qkv.lora_up.weight" in comfy
    assert "lora_unet_double_blocks_0_img_mlp_0.lora_down.weight" in comfy
    assert not any("img_attn_q." in k for k in comfy)
    assert set(read_header(tmp_path / "back.safetensors").tensors) == set(tensors)


def test_generic_comfyui_conversion_keeps_ideogram4_names_and_breaks_hidream_o1s(tmp_path):
    """Why the table offers ComfyUI conversion for Ideogram 4 and not for HiDream-O1 (TaskType.comfy_conversion):
    convert_lora.py --target other, the command convert.py builds, on LoRA names of each network module."""
    from server.models.safetensors_header import read_header
    from server.training.convert import convert_argv
    from server.training.musubi_env import MusubiEnv

    from tests.models.helpers import write_st

    info = musubi_ready()
    env = MusubiEnv(Path(info["musubi_dir"]), Path(info["python"]))
    names = {"ideogram4-lora": ["lora_unet_layers_0_attention_qkv", "lora_unet_layers_0_feed_forward_w1"],
             "hidream-o1-lora": ["lora_unet_model_language_model_layers_0_self_attn_q_proj"]}
    converted = {}
    for type_id, loras in names.items():
        tensors = {}
        for n in loras:
            tensors |= {f"{n}.lora_down.weight": ("F32", [4, 8]), f"{n}.lora_up.weight": ("F32", [8, 4]),
                        f"{n}.alpha": ("F32", [])}
        src = write_st(tmp_path / f"{type_id}.safetensors", tensors)
        dst = tmp_path / f"{type_id}-comfyui.safetensors"
        res = subprocess.run(convert_argv(env, src, dst, "other"), cwd=env.musubi_dir, capture_output=True, text=True,
                             timeout=300)
        assert res.returncode == 0, res.stderr[-2000:]
        converted[type_id] = {k.rsplit(".lora_", 1)[0] for k in read_header(dst).tensors if ".lora_" in k}
    assert converted["ideogram4-lora"] == {"diffusion_model.layers.0.attention.qkv",
                                           "diffusion_model.layers.0.feed_forward.w1"}
    assert task_types.get("ideogram4-lora").comfy_conversion
    assert converted["hidream-o1-lora"] == {"diffusion_model.model.language.model.layers.0.self_attn.q.proj"}
    assert not task_types.get("hidream-o1-lora").comfy_conversion


def test_every_network_module_is_one_musubi_trains_with():
    modules = sorted({t.network_module_for(n) for t, n in network_combinations()})
    answers = probe({"modules": [*modules, "networks.no_such_network"]})["modules"]
    assert answers.pop() is not None
    assert dict(zip(modules, answers)) == {m: None for m in modules}


def resume_commands(tmp_path, scheduler: str) -> tuple[list[str], list[str]]:
    """The first run's train args and those of its resume from the state saved at step 40 of 100."""
    qwen = task_types.get("qwen-image-lora")
    training = {"max_train_epochs": None, "max_train_steps": 100, "save_every_n_steps": 20, "lr_scheduler": scheduler,
                "lr_warmup_steps": 10, "lr_scheduler_num_cycles": 2, "lr_scheduler_min_lr_ratio": 0.1,
                "learning_rate": 1e-3}
    cfg = config.check(raw_config(qwen, "original", name="Cat", training=training, sampling=False))
    first = script_args(plan_for(cfg).stages[2])
    saved_state(tmp_path / "output" / "Cat-step00000040-state")
    resume, _ = planning.resume_point({"id": "t", "config": cfg, "run": {}, "progress": {}}, TaskPaths(tmp_path),
                                      "state")
    return first, script_args(plan_for(cfg, resume=resume).stages[2])


SCHEDULERS = ["linear", "cosine", "cosine_with_restarts", "polynomial", "cosine_with_min_lr", "warmup_stable_decay",
              "rex", "constant_with_warmup", "inverse_sqrt"]


def without(args: list[str], flag: str) -> list[str]:
    """args less `flag` and its values."""
    if flag not in args:
        return args
    i = args.index(flag)
    j = i + 1
    while j < len(args) and not args[j].startswith("--"):
        j += 1
    return args[:i] + args[j:]


def test_a_resumed_run_continues_musubis_schedule(tmp_path):
    requests = []
    for scheduler in SCHEDULERS:
        first, resumed = resume_commands(tmp_path / scheduler, scheduler)
        requests.append({"script": "qwen_image_train_network", "first": first, "resumed": resumed, "total": 100,
                         "saved_at": 40})
    # What musubi does when given only the remaining steps (the command before this fix).
    naive = [dict(r, resumed=without(without(r["resumed"], "--lr_scheduler_type"), "--lr_scheduler_args"))
             for r in requests[:2]]
    answers = probe({"schedules": requests + naive})["schedules"]
    for scheduler, answer in zip(SCHEDULERS, answers):
        assert answer["resumed"] == pytest.approx(answer["whole"], rel=1e-6, abs=1e-12), scheduler
    for answer in answers[len(SCHEDULERS):]:  # linear sits at zero, cosine jumps back
        assert answer["resumed"] != pytest.approx(answer["whole"], rel=1e-3)


def test_dataset_checks_agree_with_musubis_datasource(tmp_path):
    """What dataset_checks refuses, musubi's ImageDirectoryDatasource raises on; what it accepts, musubi reads
    with the same control images; uncaptioned images are the ones musubi leaves out."""
    from server.errors import ValidationError
    from server.training import dataset_checks

    from .helpers import source

    cases = {
        "ok": ({"a.png": "x", "a_1.png": "y", "b.jpg": "z", "draft.png": None}, ("a.png", "a_1_0.png", "a_1_1.png",
                                                                                  "b_0.png", "b_1.webp")),
        "mask": ({"x.png": "x"}, ("x.png", "x_mask.png")),
        "missing": ({"a.png": "x", "b.png": "y"}, ("a.png",)),
    }
    requests, ours = [], []
    for name, (media, controls) in cases.items():
        root = tmp_path / name
        (root / "media").mkdir(parents=True)
        (root / "control").mkdir()
        for file, caption in media.items():
            (root / "media" / file).write_bytes(b"img")
            if caption is not None:
                (root / "media" / file).with_suffix(".txt").write_text(caption, encoding="utf-8")
        for file in controls:
            (root / "control" / file).write_bytes(b"img")
        requests.append({"image_directory": str(root / "media"), "control_directory": str(root / "control"),
                         "caption_extension": ".txt"})
        try:
            dataset_checks.check(source("image_control", root), ".txt", [])
            captioned = sorted(f for f, c in media.items() if c is not None)
            ours.append(dataset_checks.match_controls(captioned, sorted(controls))[0])
        except ValidationError as exc:
            ours.append(exc.code)
    answers = probe({"datasources": requests})["datasources"]
    ok, mask, missing = answers
    assert ours[0] == ok["controls"] and ok["images"] == ["a.png", "a_1.png", "b.jpg"]
    assert ours[1] == "control_bad_name" and "Invalid digits suffix" in mask["error"]
    assert ours[2] == "control_missing" and "Could not find matching control images" in missing["error"]
