"""Checks a generated musubi-tuner command against the pinned CLI contract.

`data/musubi-cli-spec.json` is a copy of tests/fixtures/musubi-cli-spec.json: every option of every
musubi script as its argparse parser defines it, written from the real parsers of the pinned musubi-tuner by
tests/training/update_cli_spec.py (and checked against them by tests/training/test_real_musubi.py). A command the app builds must parse with it, so
this module re-implements the part of argparse we rely on, strictly:

- full flag names only: musubi keeps argparse prefix abbreviation on, so `--fp8` would silently
  mean something else (or be "ambiguous") - we never emit a prefix and reject one here;
- every value matches the option's type, choices and nargs; no flag appears twice;
- required options are present;
- then musubi's own cross-flag rules (checked in its code after parsing), see `cross_rules`.

Problems come back as `Problem(flag, message)` so the builder can map the flag to the form field
the user should change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SPEC_PATH = Path(__file__).resolve().parent / "data" / "musubi-cli-spec.json"
SCRIPT_PREFIX = "src/musubi_tuner/"
ATTENTION_FLAGS = ("sdpa", "xformers", "flash_attn", "flash3", "sage_attn")


@dataclass(frozen=True)
class Problem:
    flag: str
    message: str


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    dest: str
    action: str
    type: str | None
    nargs: object
    choices: tuple | None
    required: bool
    default: object

    @property
    def is_switch(self) -> bool:
        return self.action in ("_StoreTrueAction", "_StoreFalseAction")


@lru_cache(maxsize=4)
def load_spec(path: str | None = None) -> dict[str, dict[str, Option]]:
    """script name (e.g. `qwen_image_train_network`) -> {flag: Option}."""
    raw = json.loads(Path(path or SPEC_PATH).read_text(encoding="utf-8"))
    scripts: dict[str, dict[str, Option]] = {}
    for file, options in raw["scripts"].items():
        name = file.removeprefix(SCRIPT_PREFIX).removesuffix(".py")
        table: dict[str, Option] = {}
        for o in options:
            opt = Option(tuple(o["flags"]), o["dest"], o["action"], o["type"], o["nargs"],
                         tuple(o["choices"]) if o["choices"] is not None else None,
                         bool(o["required"]), o["default"])
            for flag in opt.flags:
                table[flag] = opt
        scripts[name] = table
    return scripts


def spec_version(path: str | None = None) -> dict:
    raw = json.loads(Path(path or SPEC_PATH).read_text(encoding="utf-8"))
    return {"version": raw.get("musubi_tuner_version"), "commit": raw.get("musubi_tuner_commit")}


def _convert(value: str, type_name: str | None):
    """Mirror argparse's type conversion; raises ValueError like the real type callables."""
    if type_name == "int":
        return int(value)
    if type_name == "float":
        return float(value)
    if type_name == "_int_or_float":
        try:
            return int(value)
        except ValueError:
            return float(value)
    return value


def parse(script: str, args: list[str]) -> tuple[dict[str, object], list[Problem]]:
    """Parse `args` (what follows the script path) like musubi's parser would.

    Returns ({dest: value}, problems). Values are converted; switches are True/False.
    """
    spec = load_spec()
    if script not in spec:
        return {}, [Problem("", f"unknown musubi script '{script}'")]
    table = spec[script]
    values: dict[str, object] = {}
    problems: list[Problem] = []
    seen: set[str] = set()
    given: set[str] = set()   # dests present, even with a bad value (one problem per mistake)
    i = 0
    while i < len(args):
        token = args[i]
        i += 1
        if not isinstance(token, str):
            problems.append(Problem(str(token), "argv items must be strings"))
            continue
        if not token.startswith("--"):
            problems.append(Problem(token, f"unexpected value '{token}' (musubi scripts take no positionals)"))
            continue
        flag, eq, inline = token.partition("=")
        opt = table.get(flag)
        if opt is None:
            near = [f for f in table if f.startswith(flag)]
            hint = f" (prefix of {', '.join(sorted(near)[:3])}: use the full name)" if near else ""
            problems.append(Problem(flag, f"{script} has no option {flag}{hint}"))
            continue
        if flag in seen:
            problems.append(Problem(flag, f"{flag} is given twice"))
        seen.add(flag)
        given.add(opt.dest)
        # Gather the raw values this option consumes.
        if opt.is_switch:
            if eq:
                problems.append(Problem(flag, f"{flag} is a switch and takes no value"))
            values[opt.dest] = opt.action == "_StoreTrueAction"
            continue
        raw: list[str] = []
        if eq:
            raw = [inline]
        else:
            while i < len(args) and isinstance(args[i], str) and not _looks_like_flag(args[i]):
                raw.append(args[i])
                i += 1
                if opt.nargs is None:
                    break
        if opt.nargs is None and len(raw) != 1:
            problems.append(Problem(flag, f"{flag} needs exactly one value"))
            continue
        converted = []
        for item in raw:
            try:
                value = _convert(item, opt.type)
            except ValueError:
                problems.append(Problem(flag, f"{flag} expects {opt.type}, got '{item}'"))
                break
            if opt.choices is not None and value not in opt.choices:
                problems.append(Problem(flag, f"{flag} must be one of {', '.join(map(str, opt.choices))}; "
                                              f"got '{item}'"))
                break
            converted.append(value)
        else:
            values[opt.dest] = converted if opt.nargs == "*" else converted[0]
    for flag, opt in table.items():
        if opt.required and flag == opt.flags[0] and opt.dest not in given:
            problems.append(Problem(flag, f"{script} requires {flag}"))
    return values, problems


def _looks_like_flag(token: str) -> bool:
    # argparse treats "-1" / "-0.5" as values because no musubi option looks like a negative number.
    if not token.startswith("-"):
        return False
    try:
        float(token)
        return False
    except ValueError:
        return True


def cross_rules(script: str, v: dict[str, object]) -> list[Problem]:
    """musubi's rules between options, checked by its code after argparse accepted the line."""
    out: list[Problem] = []
    if v.get("fp8_scaled") and not v.get("fp8_base"):
        out.append(Problem("--fp8_scaled", "--fp8_scaled requires --fp8_base"))
    if script.endswith("_train_network"):
        out += _train_rules(script, v)
    if script.startswith("flux_2_") and v.get("fp8_text_encoder") and v.get("model_version", "dev") == "dev":
        out.append(Problem("--fp8_text_encoder", "FLUX.2 dev does not support --fp8_text_encoder"))
    if script.startswith("flux_kontext_") and v.get("fp8_t5"):
        # flux_kontext_*: `torch.float8e4m3fn if args.fp8_t5` (no such dtype) raises AttributeError.
        out.append(Problem("--fp8_t5", "--fp8_t5 crashes in this musubi-tuner version for FLUX.1 Kontext"))
    return out


# What musubi finds for an --optimizer_type without a dot besides its own AdamW/AdamW8bit/AdaFactor:
# getattr(torch.optim, name) (trainer_base.get_optimizer). torch 2.5+.
TORCH_OPTIMIZERS = {"Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "ASGD", "LBFGS", "NAdam",
                    "RAdam", "RMSprop", "Rprop", "SGD", "SparseAdam"}
MUSUBI_OPTIMIZERS = {"adamw", "adamw8bit", "adafactor"}


def _train_rules(script: str, v: dict[str, object]) -> list[Problem]:
    out: list[Problem] = []
    for dest in ("dit", "dataset_config", "network_module", "output_dir", "output_name"):
        if not v.get(dest):
            out.append(Problem(f"--{dest}", f"training needs --{dest}"))
    chosen = [a for a in ATTENTION_FLAGS if v.get(a)]
    if "sage_attn" in chosen:
        out.append(Problem("--sage_attn", "--sage_attn cannot be used for training"))
    if len(chosen) != 1:
        out.append(Problem("--sdpa", "training needs exactly one attention flag "
                                     "(--sdpa, --xformers, --flash_attn or --flash3)"))
    if (v.get("xformers") or v.get("flash_attn")) and not v.get("split_attn"):
        out.append(Problem("--split_attn", "--xformers and --flash_attn need --split_attn"))
    optimizer = str(v.get("optimizer_type") or "")
    if not optimizer:
        out.append(Problem("--optimizer_type", "an explicit --optimizer_type is required "
                                               "(musubi's empty default crashes)"))
    elif "." not in optimizer and optimizer.lower() not in MUSUBI_OPTIMIZERS and optimizer not in TORCH_OPTIMIZERS:
        out.append(Problem("--optimizer_type", f"torch.optim has no {optimizer}: give its import path "
                                               "(e.g. prodigyopt.Prodigy)"))
    if v.get("persistent_data_loader_workers") and v.get("max_data_loader_n_workers", 8) == 0:
        out.append(Problem("--persistent_data_loader_workers",
                           "persistent data loader workers need at least one worker (torch's DataLoader raises)"))
    scheduler = v.get("lr_scheduler", "constant")
    if scheduler == "constant" and v.get("lr_warmup_steps", 0) not in (0, 0.0) and not v.get("lr_scheduler_type"):
        out.append(Problem("--lr_warmup_steps", "the constant scheduler does not accept warmup steps"))
    if not v.get("lr_scheduler_type"):
        scheduler_args = [str(a).partition("=")[0] for a in v.get("lr_scheduler_args") or []]
        if scheduler == "adafactor" and optimizer.lower() != "adafactor":
            out.append(Problem("--lr_scheduler", "the adafactor scheduler needs the AdaFactor optimizer"))
        if scheduler == "cosine_with_min_lr" and v.get("lr_scheduler_min_lr_ratio") is None:
            out.append(Problem("--lr_scheduler", "cosine_with_min_lr needs --lr_scheduler_min_lr_ratio"))
        if scheduler == "piecewise_constant" and "step_rules" not in scheduler_args:
            out.append(Problem("--lr_scheduler", "piecewise_constant needs --lr_scheduler_args step_rules=..."))
    if v.get("offload_inactive_dit") and v.get("blocks_to_swap"):
        out.append(Problem("--offload_inactive_dit", "--offload_inactive_dit cannot be combined with --blocks_to_swap"))
    if v.get("offload_inactive_dit") and not v.get("dit_high_noise"):
        out.append(Problem("--offload_inactive_dit", "--offload_inactive_dit needs --dit_high_noise"))
    if v.get("resume") and v.get("network_weights"):
        out.append(Problem("--resume", "use --resume or --network_weights, not both"))
    if v.get("sample_prompts") and not (v.get("sample_every_n_steps") or v.get("sample_every_n_epochs")
                                        or v.get("sample_at_first")):
        out.append(Problem("--sample_prompts", "--sample_prompts needs a sampling trigger"))
    return out


def check(script: str, args: list[str]) -> list[Problem]:
    """All problems with `<script> args`, parse errors first. Empty list = valid."""
    values, problems = parse(script, args)
    return problems + cross_rules(script, values)


ACCELERATE_OPTIONS = {
    # The subset of `accelerate launch` options the builder emits, with their value kinds.
    "--num_cpu_threads_per_process": "int", "--mixed_precision": ("no", "fp16", "bf16"),
    "--num_processes": "int", "--multi_gpu": None, "--gpu_ids": "str",
    # torchrun's, passed through by accelerate for several GPUs (ranks.py)
    "--tee": ("3",), "--main_process_port": "int", "--log_dir": "str",
}


def check_accelerate(args: list[str]) -> list[Problem]:
    """Validate the `accelerate launch` options that precede the script path."""
    out: list[Problem] = []
    i = 0
    while i < len(args):
        flag = args[i]
        kind = ACCELERATE_OPTIONS.get(flag, "missing")
        if kind == "missing":
            out.append(Problem(flag, f"unexpected accelerate option {flag}"))
            # Skip its value too, so one mistake is reported once.
            i += 2 if i + 1 < len(args) and not args[i + 1].startswith("--") else 1
            continue
        if kind is None:
            i += 1
            continue
        if i + 1 >= len(args):
            out.append(Problem(flag, f"{flag} needs a value"))
            break
        value = args[i + 1]
        if kind == "int" and not value.isdigit():
            out.append(Problem(flag, f"{flag} expects an integer, got '{value}'"))
        elif isinstance(kind, tuple) and value not in kind:
            out.append(Problem(flag, f"{flag} must be one of {', '.join(kind)}"))
        i += 2
    return out
