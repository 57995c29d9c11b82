"""Learning-rate schedulers: what each needs to start, and how a resumed run keeps the original schedule.

Read off musubi-tuner v0.3.4 `training/trainer_base.py` (get_optimizer, get_lr_scheduler):
- `adafactor` parses the initial LR out of the name musubi itself writes ("adafactor:<lr>") when the
  AdaFactor optimizer runs with relative_step (its default); chosen by hand with any other optimizer,
  or with `relative_step=False`, it raises (assert / IndexError).
- `cosine_with_min_lr` passes `min_lr_rate=--lr_scheduler_min_lr_ratio`; transformers raises when it is unset.
- `piecewise_constant` needs diffusers' `step_rules` through `--lr_scheduler_args`: not offered (fields.py).

Resume. `--resume` restores the scheduler's state (its step count) but musubi builds the scheduler from
the `--max_train_steps` it is given now while its own step counter starts again at 0 ("TODO skip until
initial step"). The app passes only what is left to train, so a schedule that depends on the total
(linear, cosine, ...) would be rebuilt over the remaining steps: linear sits at zero, cosine jumps back.
musubi's `--lr_scheduler_type` takes any dotted factory called as `factory(optimizer, **lr_scheduler_args)`,
so a resumed run names the same transformers/musubi factory musubi used, with the ORIGINAL totals;
the restored step count then continues that same curve. (LambdaLR saves no lambda, so the new one
is kept; RexLR restores its own totals, also the original ones.) Schedules that do not depend on the
total (constant, constant_with_warmup, inverse_sqrt, adafactor) resume exactly as they are.
"""

from __future__ import annotations

from ..errors import ValidationError

# Schedulers built from the total number of steps -> the factory musubi calls for them.
TOTAL_DEPENDENT = {
    "linear": "transformers.optimization.get_linear_schedule_with_warmup",
    "cosine": "transformers.optimization.get_cosine_schedule_with_warmup",
    "cosine_with_restarts": "transformers.optimization.get_cosine_with_hard_restarts_schedule_with_warmup",
    "polynomial": "transformers.optimization.get_polynomial_decay_schedule_with_warmup",
    "cosine_with_min_lr": "transformers.optimization.get_cosine_with_min_lr_schedule_with_warmup",
    "warmup_stable_decay": "transformers.optimization.get_wsd_schedule",
    "rex": "musubi_tuner.modules.lr_schedulers.RexLR",
}
# musubi's defaults for the options the app has no field for (cli-spec.json).
LR_SCHEDULER_POWER = 1.0
LR_DECAY_STEPS = 0


def _relative_step_off(optimizer_args: list[str]) -> bool:
    for arg in optimizer_args or []:
        key, _, value = arg.partition("=")
        if key.strip() == "relative_step" and value.strip() in ("False", "false", "0"):
            return True
    return False


def check(t: dict) -> None:
    """Refuse scheduler choices that crash in musubi (see module docstring)."""
    scheduler = t["lr_scheduler"]
    if scheduler == "adafactor" and (t["optimizer_type"] != "AdaFactor" or _relative_step_off(t["optimizer_args"])):
        raise ValidationError("The adafactor scheduler only works with the AdaFactor optimizer (with its default "
                              "relative_step): choose AdaFactor, or another scheduler.",
                              field="training.lr_scheduler", code="scheduler_needs_adafactor")
    if scheduler == "cosine_with_min_lr" and t.get("lr_scheduler_min_lr_ratio") is None:
        raise ValidationError("cosine_with_min_lr needs the minimum LR ratio (e.g. 0.1).",
                              field="training.lr_scheduler_min_lr_ratio", code="scheduler_needs_min_lr_ratio")


def follows_total(t: dict) -> bool:
    """Does the schedule depend on the total number of steps (so a resume must be told the original one)?"""
    return t["lr_scheduler"] in TOTAL_DEPENDENT


def _num(value: float) -> str:
    return repr(float(value))


def resume_args(t: dict, total_steps: int, num_processes: int) -> list[str]:
    """`--lr_scheduler_type/--lr_scheduler_args` rebuilding musubi's scheduler over `total_steps`.

    The arguments are those get_lr_scheduler passes for the same options: musubi counts scheduler
    steps per process (`max_train_steps * num_processes`) and passes the warmup steps as given.
    Values are Python literals: musubi reads each with ast.literal_eval.
    """
    name = t["lr_scheduler"]
    if name not in TOTAL_DEPENDENT:
        return []
    total = int(total_steps) * max(1, num_processes)
    warmup = int(t.get("lr_warmup_steps") or 0)
    cycles = int(t.get("lr_scheduler_num_cycles") or 1)
    ratio = t.get("lr_scheduler_min_lr_ratio")
    if name == "rex":
        lr = float(t["learning_rate"])
        kwargs = {"max_lr": _num(lr), "min_lr": _num(lr * (ratio if ratio is not None else 0.01)),
                  "num_steps": str(total), "num_warmup_steps": str(warmup)}
    elif name == "warmup_stable_decay":
        kwargs = {"num_warmup_steps": str(warmup), "num_stable_steps": str(total - warmup - LR_DECAY_STEPS),
                  "num_decay_steps": str(LR_DECAY_STEPS), "num_cycles": _num(cycles / 2),
                  "min_lr_ratio": _num(ratio if ratio is not None else 0.0)}
    else:
        kwargs = {"num_warmup_steps": str(warmup), "num_training_steps": str(total)}
        if name == "cosine_with_restarts":
            kwargs["num_cycles"] = str(cycles)
        elif name == "polynomial":
            kwargs["power"] = _num(LR_SCHEDULER_POWER)
        elif name == "cosine_with_min_lr":
            kwargs["num_cycles"] = _num(cycles / 2)
            kwargs["min_lr_rate"] = _num(ratio)
    return ["--lr_scheduler_type", TOTAL_DEPENDENT[name],
            "--lr_scheduler_args", *(f"{k}={v}" for k, v in kwargs.items())]
