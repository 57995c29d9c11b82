"""Run with the real musubi-tuner's Python (see test_real_musubi.py): answers, as JSON on stdout, what
musubi's own code does with the commands the app builds. Reads a JSON request on stdin:

- "parse": [[script, [args...]], ...]: each script's own argparse parser (captured from its main(), the
  way the script builds it) parses the args; the answer is the argparse error, or null.
- "specs": [script, ...]: each script's own parser as cli-spec.json records it: per option its flags, dest,
  action class, type name, nargs, choices, required and default (a default that is not a JSON scalar as its
  repr). tests/training/update_cli_spec.py writes cli-spec.json from this answer.
- "modules": [name, ...]: each --network_module is imported as musubi's trainer imports it; the answer is
  whether it has the create_arch_network the trainer calls (null) or the error.
- "dataset_configs": [toml text, ...]: musubi's ConfigSanitizer checks each dataset.toml as the cache and
  train scripts load it; the answer is its error, or null.
- "prompt_files": [text, ...]: musubi's load_prompts reads each sample_prompts.txt as training reads it;
  the answer is the list of prompt dicts it makes.
- "schedules": [{"script", "first": [args], "resumed": [args], "total": T, "saved_at": K}, ...]: musubi's
  NetworkTrainer.get_lr_scheduler builds the first run's scheduler from the first command's parsed args;
  it steps to K and its state is saved as accelerate saves it (state_dict); the resumed command's
  scheduler is built the same way, the state loaded, and stepped to the end. Answers, per request, the
  learning rates of the uninterrupted run and of the resumed one, per step.
- "datasources": [{"image_directory", "control_directory", "caption_extension"}, ...]: musubi's
  ImageDirectoryDatasource reads the folders; answers the images it keeps, the control images it matched
  to each, or the error it raises.
- "buckets": [{"dataset_config", "architecture"}, ...]: musubi's config_utils builds the datasets from the
  dataset.toml the app wrote; each dataset's own retrieve_latent_cache_batches reads the media (bucket,
  resize, video windows, controls) and a stand-in cache file is written where musubi's cache script would
  write it (same name, same latent keys, a dummy tensor); then musubi's own prepare_for_training buckets them
  as training does. Answers each dataset's buckets (key, count), num_train_items and batches per epoch.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import sys


class _Captured(Exception):
    def __init__(self, parser):
        self.parser = parser


def _answer_current_device() -> None:
    """wan/modules/t5.py (imported by every wan_* and fpack_* script) evaluates torch.cuda.current_device() as a
    default argument at import: without a driver that raises. Answer it, as the real-trainer tests' import hook
    does (tests/realtrainer/tiny/sitecustomize.py on that branch); parsing never touches a device."""
    import torch

    if not torch.cuda.is_available():
        torch.cuda.current_device = lambda: "cpu"


def real_parser(script: str) -> argparse.ArgumentParser:
    _answer_current_device()
    module = importlib.import_module(f"musubi_tuner.{script}")
    original = argparse.ArgumentParser.parse_args

    def capture(self, *a, **kw):
        raise _Captured(self)

    argparse.ArgumentParser.parse_args = capture
    try:
        module.main()
    except _Captured as c:
        return c.parser
    finally:
        argparse.ArgumentParser.parse_args = original
    raise RuntimeError(f"{script}.main() built no parser")


def parse(script: str, args: list[str]):
    parser = real_parser(script)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            return parser.parse_args(args), None
    except SystemExit:
        return None, err.getvalue().strip().splitlines()[-1]


def schedule(req: dict) -> dict:
    import torch

    from musubi_tuner.training.trainer_base import NetworkTrainer

    trainer = NetworkTrainer()
    first, problem = parse(req["script"], req["first"])
    assert problem is None, problem
    resumed, problem = parse(req["script"], req["resumed"])
    assert problem is None, problem
    total, saved_at = req["total"], req["saved_at"]

    def run(args, state=None, steps=0):
        param = torch.nn.Parameter(torch.zeros(1))
        optimizer = torch.optim.SGD([param], lr=args.learning_rate)
        scheduler = trainer.get_lr_scheduler(args, optimizer, 1)
        if state is not None:
            scheduler.load_state_dict(state)
            for group, lr in zip(optimizer.param_groups, scheduler.get_last_lr()):
                group["lr"] = lr  # accelerate restores the optimizer's state (its lr) too
        lrs = []
        for _ in range(steps):
            optimizer.step()
            scheduler.step()
            lrs.append(optimizer.param_groups[0]["lr"])
        return scheduler, lrs

    first.max_train_steps = total
    _, whole = run(first, steps=total)
    first_part, _ = run(first, steps=saved_at)
    state = first_part.state_dict()
    _, rest = run(resumed, state=state, steps=resumed.max_train_steps)
    return {"whole": whole, "resumed": whole[:saved_at] + rest}


def datasource(req: dict) -> dict:
    import os

    from musubi_tuner.dataset.datasources import ImageDirectoryDatasource

    try:
        ds = ImageDirectoryDatasource(req["image_directory"], req["caption_extension"], req.get("control_directory"))
    except ValueError as exc:
        return {"error": str(exc)}
    name = os.path.basename
    return {"images": sorted(name(p) for p in ds.image_paths),
            "controls": {name(k): sorted(name(p) for p in v) for k, v in getattr(ds, "control_paths", {}).items()}}


def _json_default(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def spec(script: str) -> list[dict]:
    out = []
    for action in real_parser(script)._actions:
        if not action.option_strings:
            continue  # positionals: cli-spec lists options only
        kind = getattr(action.type, "__name__", None) if action.type is not None else None
        out.append({"flags": list(action.option_strings), "dest": action.dest, "action": type(action).__name__,
                    "type": kind, "nargs": action.nargs,
                    "choices": list(action.choices) if action.choices is not None else None,
                    "required": bool(action.required), "default": _json_default(action.default)})
    return out


def network_module(name: str):
    try:
        module = importlib.import_module(f"musubi_tuner.{name}")
    except Exception as exc:  # noqa: BLE001 - the answer is the error
        return f"{type(exc).__name__}: {exc}"
    return None if callable(getattr(module, "create_arch_network", None)) else "no create_arch_network"


def dataset_config(text: str):
    import tomllib

    from musubi_tuner.dataset.config_utils import ConfigSanitizer

    try:
        ConfigSanitizer().sanitize_user_config(tomllib.loads(text))
    except Exception as exc:  # noqa: BLE001 - the answer is the error
        return f"{type(exc).__name__}: {exc}"
    return None


def prompt_file(text: str) -> list:
    import os
    import tempfile

    from musubi_tuner.training.sampling_prompts import load_prompts

    fd, path = tempfile.mkstemp(suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        return load_prompts(path)
    finally:
        os.remove(path)


def buckets(req: dict) -> list[dict]:
    import glob
    import os

    import torch
    from safetensors.torch import save_file

    from musubi_tuner.dataset import config_utils
    from musubi_tuner.dataset.config_utils import BlueprintGenerator, ConfigSanitizer

    arch = req["architecture"]
    user_config = config_utils.load_user_config(req["dataset_config"])
    blueprint = BlueprintGenerator(ConfigSanitizer()).generate(user_config, argparse.Namespace(debug_dataset=False),
                                                                architecture=arch)
    group = config_utils.generate_dataset_group_by_blueprint(blueprint.dataset_group)
    def dummy():
        return torch.zeros(1)

    out = []
    for ds in group.datasets:
        video = type(ds).__name__ == "VideoDataset"
        for _, batch in ds.retrieve_latent_cache_batches(num_workers=1):
            for item in batch:
                content = item.content if not isinstance(item.content, list) else item.content[0]
                h, w = content.shape[-3:-1] if video else content.shape[:2]
                frames = item.frame_count or 1
                sd = {f"latents_{(frames - 1) // 4 + 1}x{h // 8}x{w // 8}_float32": dummy()}
                for i, control in enumerate(item.control_content or [] if not video else []):
                    ch, cw = control.shape[:2]
                    sd[f"latents_control_{i}_1x{ch // 8}x{cw // 8}_float32"] = dummy()
                save_file(sd, item.latent_cache_path)
        for cache in glob.glob(os.path.join(ds.cache_directory, f"*_{arch}.safetensors")):
            tokens = os.path.basename(cache).split("_")
            key = "_".join(tokens[:-3] if video else tokens[:-2])
            save_file({"dummy": dummy()}, os.path.join(ds.cache_directory, f"{key}_{arch}_te.safetensors"))
        ds.prepare_for_training()
        manager = ds.batch_manager
        out.append({"buckets": [[list(k), len(manager.buckets[k])] for k in manager.bucket_resos],
                    "num_train_items": ds.num_train_items, "batches": len(manager)})
    return out


def main() -> None:
    req = json.load(sys.stdin)
    out = {}
    if "parse" in req:
        out["parse"] = [parse(script, args)[1] for script, args in req["parse"]]
    if "specs" in req:
        out["specs"] = {script: spec(script) for script in req["specs"]}
    if "modules" in req:
        out["modules"] = [network_module(name) for name in req["modules"]]
    if "dataset_configs" in req:
        out["dataset_configs"] = [dataset_config(text) for text in req["dataset_configs"]]
    if "prompt_files" in req:
        out["prompt_files"] = [prompt_file(text) for text in req["prompt_files"]]
    if "schedules" in req:
        out["schedules"] = [schedule(r) for r in req["schedules"]]
    if "datasources" in req:
        out["datasources"] = [datasource(r) for r in req["datasources"]]
    if "buckets" in req:
        out["buckets"] = [buckets(r) for r in req["buckets"]]
    print("\n@@RESULT@@" + json.dumps(out, default=str))


if __name__ == "__main__":
    main()
