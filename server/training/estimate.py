"""How long a run will take, before it starts, and how far off that was, after it ends.

Seconds per training step come from this machine's own finished runs when it has any (each run keeps
its `timing`: see `record()`), matched on task type, variant, resolution, batch size, VRAM preset and GPU
model; the closest match wins, and a run at another resolution or batch size is scaled by the pixels it
trains per step. Without a run to learn from, FALLBACK gives a rough figure and says so (`basis`).
The train stage's measured time includes loading the model and rendering samples, so a history-based
estimate counts sampling through it; the fallback adds sampling and caching separately.

Several GPUs (one process each, ranks.py): every process trains its own batch in a step, so the run has
fewer steps (buckets.preview divides them) of about a one-GPU step's length plus the gradient exchange
(`multi_gpu_step_share` per extra GPU, rough) when only runs on another number of GPUs are known; musubi
renders the sample prompts split between the processes. Caching runs as one process either way.
"""

from __future__ import annotations

import math
import time

from . import task_types, tasks, vram

# Rough fallback, not measurements: seconds per step at 1 megapixel x batch 1 x 1 latent frame grow with
# the model's size (the VRAM table's bf16 weights, GB), with gradient checkpointing on; block swap costs
# a share of a step per swapped block. Caching: per item and per stage start (loading the encoder).
FALLBACK = {
    "seconds_per_weight_gb": 0.06,
    "swap_share_per_block": 0.015,
    "cache_latents_per_item_s": 0.6,
    "cache_text_per_item_s": 0.3,
    "stage_start_s": 40.0,
    "sample_step_share": 0.5,    # one sampling step costs this share of a training step
    # each GPU beyond the first: the LoRA's gradients are averaged between the processes every step and
    # the step waits for the slowest one
    "multi_gpu_step_share": 0.1,
}
FALLBACK_SOURCE = ("rough figures scaled from each model's size (not measured on this machine); a finished "
                   "run replaces them")


def _pixels(resolved: dict, dataset_type: str | None) -> float:
    d = resolved["dataset"]
    w, h = d["resolution"]
    frames = 1
    if dataset_type == "video":
        frames = vram.latent_frames(max(d.get("target_frames") or [1]))
    return w * h / 1e6 * d["batch_size"] * frames


def processes(resolved: dict) -> int:
    return max(1, len(resolved.get("gpus") or [0]))


def key_of(resolved: dict, gpu: str | None) -> dict:
    d = resolved["dataset"]
    return {"task_type": resolved["task_type"], "variant": resolved.get("variant"),
            "resolution": list(d["resolution"]), "batch_size": d["batch_size"],
            "preset": resolved.get("vram_preset", "medium"), "gpu": gpu, "processes": processes(resolved)}


def _key_value(key: dict, name: str):
    # runs recorded before several GPUs were counted ran on one
    return key.get(name, 1) if name == "processes" else key.get(name)


def _gpu_share(processes_: int) -> float:
    return 1 + FALLBACK["multi_gpu_step_share"] * (processes_ - 1)


MATCH_LEVELS = (
    ("task_type", "variant", "resolution", "batch_size", "preset", "gpu", "processes"),
    ("task_type", "variant", "preset", "gpu", "processes"),
    ("task_type", "variant", "gpu"),
    ("task_type", "variant"),
    ("task_type",),
)


def history(store) -> list[dict]:
    """Timings of this machine's finished runs, newest first."""
    out = []
    for task in tasks.list_rows(store):
        timing = (task.get("run") or {}).get("timing")
        if task.get("status") == "done" and timing and timing.get("seconds_per_step"):
            out.append(timing)
    return sorted(out, key=lambda t: t.get("finished_at") or 0, reverse=True)


def _samples(resolved: dict, total_steps: int, epochs: int | None) -> int:
    s = resolved["samples"]
    prompts = len(s.get("prompts") or [])
    if not prompts:
        return 0
    events = 1 if s.get("at_first") else 0
    if s.get("every_n_steps"):
        events += total_steps // s["every_n_steps"]
    if s.get("every_n_epochs") and epochs:
        events += epochs // s["every_n_epochs"]
    # trainer_base.sample_images: prompt i goes to process i mod N, all processes render at once
    return events * math.ceil(prompts / processes(resolved))


def estimate(store, resolved: dict, preview: dict, dataset_type: str | None, gpu: str | None = None) -> dict | None:
    total_steps = preview.get("total_steps")
    if not total_steps:
        return None
    key = key_of(resolved, gpu)
    pixels = _pixels(resolved, dataset_type)
    items = preview["num_train_items"] // max(1, preview["num_repeats"])
    past = history(store) if store is not None else []
    for level in MATCH_LEVELS:
        same = [t for t in past if all(_key_value(t.get("key") or {}, k) == key[k] for k in level)]
        if same:
            t = same[0]
            scale = pixels / t["pixels"] if t.get("pixels") else 1.0
            scale *= _gpu_share(key["processes"]) / _gpu_share(_key_value(t.get("key") or {}, "processes"))
            per_step = t["seconds_per_step"] * scale
            cache = (t.get("cache_s") or 0) * (items / t["items"] if t.get("items") else 1.0)
            train = per_step * total_steps
            return {"basis": "history", "matched_on": list(level), "runs": len(same), "from_task": t.get("task_id"),
                    "seconds_per_step": round(per_step, 3), "steps": total_steps, "train_s": round(train),
                    "cache_s": round(cache), "sampling_s": None, "total_s": round(train + cache), "gpu": gpu,
                    "key": key, "pixels": pixels, "items": items}
    ttype = task_types.get(resolved["task_type"])
    model = ttype.vram_model(resolved.get("variant"))
    t = resolved["training"]
    per_step = FALLBACK["seconds_per_weight_gb"] * model.weights_bf16_gb * max(pixels, 0.05)
    per_step *= 1 + FALLBACK["swap_share_per_block"] * int(t.get("blocks_to_swap") or 0)
    per_step *= _gpu_share(key["processes"])
    samples = _samples(resolved, total_steps, preview.get("epochs"))
    sample_steps = resolved["samples"].get("steps") or 20
    sampling = samples * sample_steps * per_step * FALLBACK["sample_step_share"]
    cache = (2 * FALLBACK["stage_start_s"]
             + items * (FALLBACK["cache_latents_per_item_s"] + FALLBACK["cache_text_per_item_s"]))
    train = per_step * total_steps
    return {"basis": "table", "source": FALLBACK_SOURCE, "seconds_per_step": round(per_step, 3),
            "steps": total_steps, "train_s": round(train), "cache_s": round(cache), "sampling_s": round(sampling),
            "samples": samples, "total_s": round(train + cache + sampling), "gpu": gpu, "key": key,
            "pixels": pixels, "items": items}


def record(task: dict, run: dict, now: float | None = None) -> dict | None:
    """The finished run's timing (kept in its run record) and the estimate's error. Needs the run's start,
    its train stage's start and the steps trained (progress)."""
    now = now or time.time()
    started, train_started = task.get("started_at"), run.get("stage_started_at")
    steps = (task.get("progress") or {}).get("total_steps") or ((run.get("preflight") or {}).get("total_steps"))
    est = (run.get("preflight") or {}).get("estimate") or {}
    if not started or not train_started or not steps:
        return None
    train = max(0.0, now - train_started)
    cache = max(0.0, train_started - started)
    timing = {"task_id": task["id"], "run_no": run.get("run_no"), "finished_at": now, "key": est.get("key"),
              "pixels": est.get("pixels"), "items": est.get("items"), "steps": steps,
              "seconds_per_step": round(train / steps, 4), "train_s": round(train), "cache_s": round(cache),
              "total_s": round(now - started), "estimated_s": est.get("total_s"), "basis": est.get("basis")}
    if est.get("total_s"):
        timing["error_pct"] = round((timing["total_s"] - est["total_s"]) / est["total_s"] * 100, 1)
    return timing


def gpu_name(gpus: list[int] | None) -> str | None:
    """The model of the first GPU the task uses, from the app's monitor (None outside a request or without
    a readable GPU)."""
    try:
        from ..services import services
        snap = services().monitor.snapshot()
    except Exception:  # noqa: BLE001 - no app context or no monitor: the estimate goes without
        return None
    index = (gpus or [0])[0]
    for g in snap.get("gpus") or []:
        if g.get("index") == index:
            return g.get("name")
    return None
