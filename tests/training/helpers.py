"""Shared builders for training tests: configs for every type/variant/preset/dataset type."""

from __future__ import annotations

from pathlib import Path

from server.training import commands, config, task_types
from server.training.dataset_source import DatasetSource
from server.training.musubi_env import MusubiEnv

ENV = MusubiEnv(Path("/opt/musubi-tuner"), Path("/opt/musubi-tuner/.venv/bin/python"))
PATHS = commands.TaskPaths(Path("/data/tasks/task_1"))


def source(dataset_type: str, root: Path | str = "/data/datasets/ds_00000001") -> DatasetSource:
    root = Path(root)
    return DatasetSource("ds_00000001", "Cats", dataset_type, root / "media", root / "control")


def plan_for(raw: dict, dataset_type: str = "image", *, src: DatasetSource | None = None, **kw):
    return commands.build_plan(config.resolve(config.check(raw)), src or source(dataset_type), ENV, PATHS, **kw)


def script_args(stage) -> list[str]:
    """What follows the script path in a stage's argv."""
    index = stage.argv.index(str(ENV.script(stage.script)))
    return stage.argv[index + 1:]


def model_paths(ttype, root: Path | str = "/models") -> dict:
    """A path for every model file, less the optional ones musubi refuses with block swap (Krea 2's Turbo DiT),
    which the memory presets use: test_commands tests those on their own."""
    return {m.key: f"{Path(root).as_posix()}/{m.key}.safetensors" for m in ttype.models
            if m.required or not m.excludes_block_swap}


def prompt_for(ttype, variant: str, text: str = "a photo of sks") -> dict:
    """A sample prompt carrying the options this type/variant requires (control or start image)."""
    required = set(ttype.required_prompt_options) | set(ttype.variant(variant).required_prompt_options)
    prompt = {"prompt": text}
    if "control_images" in required:
        prompt["control_images"] = ["/prompts/control.png"]
    if "image" in required:
        prompt["image"] = "/prompts/start.png"
    return prompt


def raw_config(ttype, variant: str, preset: str = "medium", *, sampling: bool = True, **overrides) -> dict:
    raw = {"name": "Test LoRA", "task_type": ttype.id, "variant": variant, "dataset_id": "ds_00000001",
           "vram_preset": preset, "models": model_paths(ttype), "gpus": [0]}
    if sampling:
        raw["samples"] = {"every_n_epochs": 1, "prompts": [prompt_for(ttype, variant)]}
    raw.update(overrides)
    return raw


def all_combinations():
    """(type, variant, preset, dataset type) for every task type x variant x VRAM preset x accepted type."""
    for ttype in task_types.TASK_TYPES.values():
        for variant in ttype.variants:
            for dataset_type in ttype.accepted_dataset_types(variant.key):
                for preset in task_types.PRESETS:
                    yield ttype, variant.key, preset, dataset_type


def combo_id(combo) -> str:
    ttype, variant, preset, dataset_type = combo
    return f"{ttype.id}-{variant}-{preset}-{dataset_type}"


def network_combinations():
    """(type, network type) for every task type x the network types (LoRA, LoHa, LoKr) it offers."""
    for ttype in task_types.TASK_TYPES.values():
        for network_type in ttype.network_types:
            yield ttype, network_type


def saved_state(folder: Path) -> Path:
    """A state folder as musubi saves it, whole to server/training/state_files.py: the LoRA's model.safetensors
    and accelerate's torch.save archives (zips). Tests that resume need one; an empty folder is a cut state."""
    import zipfile

    from server.models.safetensors_header import write_file

    folder.mkdir(parents=True, exist_ok=True)
    write_file(folder / "model.safetensors", {"lora_unet_x.lora_down.weight": ("F32", [4, 8])})
    for name in ("optimizer.bin", "scheduler.bin", "random_states_0.pkl"):
        with zipfile.ZipFile(folder / name, "w") as z:
            z.writestr(f"{Path(name).stem}/data.pkl", b"test")
    return folder
