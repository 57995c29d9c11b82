"""Turning a stored task into something to show (preview) or to run (a run record).

- `preview()` builds the plan for a config without touching the task folder or starting anything.
- `prepare_run()` builds the plan strictly (model files must exist, musubi must be installed),
  writes dataset.toml / sample_prompts.txt into the task folder and returns the run record the
  runner executes and the database keeps (so a re-attached run continues with the same argv).
- `resume_point()` finds the latest saved state or weights and what is left to train: musubi
  restarts its step and epoch counters on --resume, so the remaining epochs/steps are passed and
  the new part writes under its own output name (`<name>-rN`) to keep earlier files. The whole
  run's step count goes with it, so a resumed LR schedule keeps its original shape (lr_schedules.py).
  A newest state (or checkpoint) cut short while it was written is passed over for the newest whole
  one, with a warning; none whole is refused (`resume_incomplete`; state_files.py).
- Before a run, cache files whose inputs changed are deleted (cache_state.py), so musubi's
  `--skip_existing` only skips caches that are still right.
"""

from __future__ import annotations


from ..datasets import storage
from ..errors import ValidationError
from ..fileio import atomic_write_text
from ..models import checks as model_checks
from . import (cache_state, commands, config, dataset_source, estimate, hub_tokenizers, musubi_env, outputs, preflight,
               state_files, task_types, tasks, vram)


def preview(store, layout, raw: dict, task_id: str | None = None) -> dict:
    cfg = config.check(raw)
    resolved = config.resolve(cfg)
    source = dataset_source.lookup(store, layout, cfg.get("dataset_id"))
    task_paths = tasks.paths(layout, task_id) if task_id else commands.TaskPaths(layout.tasks / "(new task)")
    env = musubi_env.from_store(store)
    plan = commands.build_plan(resolved, source, env, task_paths)
    body = plan.public()
    problems = env.problems()
    body["warnings"] += [message for _, message in problems]
    # The same problems as data: the create form refuses before saving a task that could not start.
    body["trainer_problems"] = [{"setting": p.setting, "message": p.message, "code": p.code, "details": p.details}
                                for p in env.coded_problems()]
    body["dataset"] = {"id": source.id, "name": source.name, "type": source.type,
                       "media_count": plan.extra.get("media_count")}
    body["cwd"] = str(env.musubi_dir)
    return body


def vram_estimate(store, layout, raw: dict) -> dict:
    """The create form's VRAM figures (server only: the form asks as it changes). The dataset, when one
    is chosen and exists, decides image or video; without one the form's default kind counts."""
    cfg = config.check(raw)
    ttype = task_types.get(cfg["task_type"])
    dataset_type = None
    if cfg.get("dataset_id"):
        try:
            dataset_type = dataset_source.lookup(store, layout, cfg["dataset_id"]).type
        except ValidationError:
            pass  # gone or in the trash: estimated as if none were chosen, the form says why elsewhere
    return vram.estimates(ttype, config.resolve(cfg), dataset_type)


def segments_of(task: dict) -> list[outputs.Segment]:
    run = task.get("run") or {}
    if run.get("segments"):
        return [outputs.Segment.from_dict(s) for s in run["segments"]]
    return [outputs.Segment(commands.output_name(task["config"]["name"]))]


def resume_point(task: dict, task_paths: commands.TaskPaths, mode: str) -> tuple[dict, list[outputs.Segment]]:
    """(resume argument for the builder, segments including the new one) or ValidationError."""
    if mode not in ("state", "weights"):
        raise ValidationError("Resume from 'state' or 'weights'.", field="resume")
    resolved = config.resolve(task["config"])
    t = resolved["training"]
    segments = segments_of(task)
    by_epochs = t["max_train_epochs"] is not None
    kind = "epoch" if by_epochs else "step"
    found = (outputs.states if mode == "state" else outputs.checkpoints)(task_paths.output, segments)
    candidates = [c for c in found if c["kind"] == kind]
    finals = [c for c in outputs.checkpoints(task_paths.output, segments) if c["kind"] == "final"]
    if any(c["segment"] == segments[-1].output_name for c in finals):
        raise ValidationError("This task already finished; start it again instead of resuming.", field="resume")
    if not candidates:
        what = "saved state (turn on 'save state')" if mode == "state" else "checkpoint"
        raise ValidationError(f"There is no {kind} {what} to resume from.", field="resume", code="nothing_to_resume")
    latest, skipped = _newest_whole(candidates, kind, mode, task_paths)
    path = task_paths.output / (latest["dir"] if mode == "state" else latest["file"])
    progress = task.get("progress") or {}
    steps_per_epoch = None
    if progress.get("total_steps") and progress.get("total_epochs"):
        steps_per_epoch = progress["total_steps"] // progress["total_epochs"]
    base = segments[0].output_name
    new = outputs.Segment(f"{base}-r{len(segments)}",
                          epoch_offset=latest["epoch"] if by_epochs else 0,
                          step_offset=(latest["epoch"] * steps_per_epoch if by_epochs and steps_per_epoch
                                       else latest["step"] or 0))
    resume = {"mode": mode, "path": str(path), "output_name": new.output_name, "from": latest, "skipped": skipped}
    if by_epochs:
        left = t["max_train_epochs"] - latest["epoch"]
        resume["max_train_epochs"] = left
        # The whole run's optimisation steps, as musubi counted them (progress totals include earlier parts).
        if steps_per_epoch:
            resume["schedule_total_steps"] = steps_per_epoch * t["max_train_epochs"]
    else:
        left = t["max_train_steps"] - latest["step"]
        resume["max_train_steps"] = left
        resume["schedule_total_steps"] = t["max_train_steps"]
    if left <= 0:
        raise ValidationError("Nothing is left to train after the latest save.", field="resume")
    return resume, [*segments, new]


def _newest_whole(candidates: list[dict], kind: str, mode: str, task_paths) -> tuple[dict, list[dict]]:
    """The newest saved state (or checkpoint) that is whole, and the newer ones passed over with what is wrong
    with each. A stop or crash while musubi wrote the newest one leaves it cut short (state_files.py): resuming
    from the one before loses a save interval, where loading the broken one would fail minutes in, or worse,
    carry on with lost random states. None whole: refused, naming the files."""
    skipped = []
    for c in sorted(candidates, key=lambda c: c[kind], reverse=True):
        path = task_paths.output / (c["dir"] if mode == "state" else c["file"])
        if mode == "state":
            problems = state_files.state_problems(path)
        else:
            problem = state_files.safetensors_problem(path)
            problems = {path.name: problem} if problem else {}
        if not problems:
            return c, skipped
        skipped.append({"name": path.name, "problems": problems})
    what = "saved state" if mode == "state" else "checkpoint"
    files = "; ".join(f"{s['name']}: " + ", ".join(f"{f} {p}" for f, p in s["problems"].items()) for s in skipped)
    raise ValidationError(f"Every {kind} {what} of this task is incomplete (a stop or crash cut it short while it was "
                          f"written), so there is nothing whole to resume from: {files}. Start the task again.",
                          field="resume", code="resume_incomplete",
                          details={"files": files, "skipped": skipped, "mode": mode})


def refuse_broken_models(cfg: dict) -> None:
    """The model library's verdict (server/models/checks.py) decides here too: a file it calls an error
    (an fp8_scaled Qwen DiT, a truncated download, a LoRA as base model) would only fail minutes into a run."""
    for role, path in (cfg.get("models") or {}).items():
        if not path:
            continue
        verdict = model_checks.check_file(path, cfg.get("task_type"), role)
        if verdict["status"] == "error":
            reason = next(p["message"] for p in verdict["problems"] if p["severity"] == "error")
            raise ValidationError(f"The model file {path} ({role}) cannot be used: {reason}", field=f"models.{role}",
                                  code="model_file_error", details={"path": str(path), "role": role, "reason": reason,
                                                                    "problems": verdict["problems"]})


def prepare_run(store, layout, task: dict, resume_mode: str | None = None, *, write: bool = True) -> dict:
    """The run record for starting `task` now (see module docstring)."""
    env = musubi_env.from_store(store)
    env.refuse_start()
    cfg = task["config"]
    refuse_broken_models(cfg)
    resolved = config.resolve(cfg)
    source = dataset_source.lookup(store, layout, cfg.get("dataset_id"))
    task_paths = tasks.paths(layout, task["id"])
    if resume_mode:
        resume, segments = resume_point(task, task_paths, resume_mode)
    else:
        resume, segments = None, [outputs.Segment(commands.output_name(cfg["name"]))]
    plan = commands.build_plan(resolved, source, env, task_paths, resume=resume, check_files=True)
    # The pre-flight report: a blocking finding refuses the start with the whole list; its numbers are
    # kept to compare with what musubi actually trained on (accounting.py) and how long it took.
    report = preflight.build(resolved, source, trigger=storage.trigger_word(store, source.id), store=store,
                             gpu=estimate.gpu_name(cfg["gpus"]))
    preflight.ensure_startable(report)
    checked = preflight.summary(report)
    if resume:   # musubi counts only the remaining part; the whole run's figures do not apply
        checked.update(total_steps=None, estimate=None)
    # musubi fetches tokenizers from the hub on first use: refuse now rather than after minutes of caching
    hub_tokenizers.check(store, layout, resolved["task_type"], resolved["variant"])
    hub_env = hub_tokenizers.stage_env(store, layout)
    if write:
        for name, text in plan.files.items():
            atomic_write_text(task_paths.root / name, text)
        for folder in (task_paths.output, task_paths.cache, task_paths.logs):
            folder.mkdir(parents=True, exist_ok=True)
    reads_control = task_types.get(resolved["task_type"]).text_encoder_reads_control
    fingerprints = {
        s.name: cache_state.manifest(s.name, s.argv, plan.files["dataset.toml"], source,
                                     resolved["dataset"]["caption_extension"], reads_control)
        for s in plan.stages if task_types.cache_kind(s.name)}
    if write:
        # Only caches whose inputs are unchanged survive, so --skip_existing skips only good work.
        for stage_name, manifest in fingerprints.items():
            cache_state.drop_stale(task_paths.cache, stage_name, manifest)
    last = segments[-1]
    run_no = (task.get("run_no") or 0) + 1
    previous = task.get("run") or {}
    return {
        "run_no": run_no,
        # Loss history and outputs of a resumed run continue those of the run it resumes.
        "base_run_no": (previous.get("base_run_no") or run_no) if resume else run_no,
        "stages": [{**s.public(), "env": {**s.env, **hub_env}} for s in plan.stages], "stage_index": 0, "cwd": str(env.musubi_dir),
        "gpus": cfg["gpus"], "output_name": plan.output_name, "output_dir": str(task_paths.output),
        "log_dir": str(task_paths.logs), "cache_dir": str(task_paths.cache),
        "segments": [{"output_name": s.output_name, "epoch_offset": s.epoch_offset, "step_offset": s.step_offset}
                     for s in segments],
        "step_offset": last.step_offset, "epoch_offset": last.epoch_offset,
        "resume": resume, "fingerprints": fingerprints, "warnings": [*plan.warnings, *state_files.skipped_warnings(resume)],
        "vram_estimate_gb": plan.vram_estimate_gb, "preflight": checked,
    }
