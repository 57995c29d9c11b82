"""The REAL musubi-tuner behind the app, on a CPU, with tiny random-weight models (see README's test section).

- `trainer` (session): musubi-tuner installed by the app's own setup job (trainer_env.py), cached outside the
  repository, plus the tiny models and the fake Hugging Face cache made with its Python (make_tiny.py), in a
  `tiny-<hash of their sources>` folder beside it.
- `real` (per test): a fresh app (real sqlite in a tmp data folder) whose settings point at that install;
  the tiny tokenizers copied to <data>/huggingface, where the app points HF_HOME for every stage; the
  import hook of tiny/sitecustomize.py switched on for the trainer's processes (PYTHONPATH + LW_TINY_MUSUBI);
  HF_HUB_OFFLINE=1 so nothing reaches for the network.
Everything else goes through the app's HTTP API (`real.api`), as the UI does; `Real.run()` follows a task from
start to end, `lean_task()` makes the smallest task of a type, `ONE_SAMPLE_AT_THE_END` the leanest saving and
sampling.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import Api
from tests.live import wait_for

from . import trainer_env

HERE = Path(__file__).resolve().parent
TINY_DIR = HERE / "tiny"


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.realtrainer)


def _tiny_env() -> dict:
    return {"PYTHONPATH": str(TINY_DIR), "LW_TINY_MUSUBI": "1", "HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="session")
def trainer() -> dict:
    info = dict(trainer_env.ensure())
    info.update(tiny_models(info))
    return info


def tiny_models(info: dict) -> dict:
    """The tiny models and HF cache for these sources, in `tiny-<hash of make_tiny.py + sitecustomize.py>` beside
    the trainer: a folder per version of the sources, so test runs of other branches sharing the trainer cache
    neither delete nor rebuild each other's. Built into a temporary folder, then renamed (a half-built one is
    never used); a lock file keeps two processes from building the same one."""
    sources = {p.name: p.read_text(encoding="utf-8") for p in (HERE / "make_tiny.py", TINY_DIR / "sitecustomize.py")}
    digest = hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).hexdigest()[:12]
    root = Path(info["musubi_dir"]).parent
    tiny = root / f"tiny-{digest}"
    with trainer_env._locked(root / f"tiny-{digest}.lock"):
        if not (tiny / "ready.json").is_file():
            building = root / f"tiny-{digest}.building"
            shutil.rmtree(building, ignore_errors=True)
            res = subprocess.run([info["python"], str(HERE / "make_tiny.py"), str(building)], capture_output=True,
                                 text=True, env={**os.environ, **_tiny_env()}, timeout=600)
            assert res.returncode == 0, res.stdout + res.stderr
            (building / "ready.json").write_text(json.dumps({"sources": sources}), encoding="utf-8")
            shutil.rmtree(tiny, ignore_errors=True)
            building.rename(tiny)
    return {"models": {p.stem: str(p) for p in (tiny / "models").glob("*.safetensors")}, "hf": tiny / "hf"}


@dataclass
class Real:
    api: Api
    svc: object
    data_dir: Path
    trainer: dict
    tmp: Path

    def call(self, method: str, path: str, body=None, expect=200) -> dict:
        r = getattr(self.api, method.lower())(path, json=body) if body is not None else getattr(self.api, method.lower())(path)
        assert r.status_code == expect, (method, path, r.status_code, r.get_data(as_text=True)[:3000])
        return r.get_json()

    def wait_job(self, job_id: str, timeout: float = 120) -> dict:
        return wait_for(lambda: (j := self.call("GET", f"/api/jobs/{job_id}")["job"])["status"] in
                        ("done", "failed", "cancelled", "interrupted") and j, timeout, f"job {job_id}")

    def image_dataset(self, count: int = 2, name: str = "Squares", *, controls: bool = False) -> str:
        """A captioned 64x64 image dataset imported from a folder; with `controls`, an image_control dataset whose
        targets each have a control image of the same name in control/ (the importer pairs them by stem)."""
        ds = self.call("POST", "/api/datasets", {"name": name, "type": "image_control" if controls else "image"},
                       expect=201)["dataset"]
        folder = self.tmp / f"pics-{ds['id']}"
        folder.mkdir()
        if controls:
            (folder / "control").mkdir()
        colours = ["red", "green", "blue", "orange"]
        for i in range(count):
            Image.new("RGB", (64, 64), colours[i % 4]).save(folder / f"img{i}.png")
            (folder / f"img{i}.txt").write_text(f"a {colours[i % 4]} square", encoding="utf-8")
            if controls:
                Image.new("RGB", (64, 64), colours[(i + 1) % 4]).save(folder / "control" / f"img{i}.png")
        job = self.call("POST", f"/api/datasets/{ds['id']}/import", {"source": "folder", "path": str(folder)},
                        expect=202)["job"]
        assert self.wait_job(job["id"])["status"] == "done"
        return ds["id"]

    def task(self, raw: dict) -> dict:
        return self.call("POST", "/api/tasks", raw, expect=201)["task"]

    def get_task(self, task_id: str) -> dict:
        return self.call("GET", f"/api/tasks/{task_id}")["task"]

    def wait_task(self, task_id: str, statuses=("done", "failed", "stopped", "interrupted"), timeout: float = 600):
        return wait_for(lambda: (t := self.get_task(task_id))["status"] in statuses and t, timeout,
                        f"task {task_id} in {statuses}")

    def log(self, task_id: str, stage: str) -> str:
        return self.call("GET", f"/api/tasks/{task_id}/log?stage={stage}&tail=10000000")["text"]

    def run(self, raw: dict, timeout: float = 900) -> dict:
        """Create the task, start it and follow it to its end as the UI does, keeping every distinct progress it
        showed; then the three stage logs. What the tests of one run share."""
        task = self.task(raw)
        self.call("POST", f"/api/tasks/{task['id']}/start")
        seen = []

        def finished():
            t = self.get_task(task["id"])
            if t["progress"] and (not seen or seen[-1] != t["progress"]):
                seen.append(t["progress"])
            return t["status"] in ("done", "failed", "stopped", "interrupted") and t

        done = wait_for(finished, timeout, f"the {raw['task_type']} run")
        # the run's own stages (HiDream-O1 caches pixels, not latents)
        stages = [s["name"] for s in (done.get("run") or {}).get("stages") or []] or STAGES
        return {"real": self, "task": done, "folder": self.data_dir / "tasks" / task["id"] / "output",
                "logs": {stage: self.log(task["id"], stage) for stage in stages}, "progress": seen}

    def outputs_listed_and_served(self, run: dict) -> dict:
        """Every checkpoint, state and sample on disk is listed by the outputs API, and each file is served byte
        for byte; returns what is on disk."""
        task_id, folder = run["task"]["id"], run["folder"]
        disk = on_disk(folder)
        outs = self.call("GET", f"/api/tasks/{task_id}/outputs")
        assert sorted(c["file"] for c in outs["checkpoints"]) == disk["checkpoints"], (outs["checkpoints"], disk)
        assert sorted(s["dir"] for s in outs["states"]) == disk["states"], (outs["states"], disk)
        assert sorted(s["file"] for s in outs["samples"]) == [f"sample/{n}" for n in disk["samples"]], (outs, disk)
        for rel in [c["file"] for c in outs["checkpoints"]] + [s["file"] for s in outs["samples"]]:
            r = self.api.get(f"/api/tasks/{task_id}/files/{rel}")
            assert r.status_code == 200 and r.data == (folder / rel).read_bytes(), rel
        return disk

    def cache_stages_showed_progress(self, run: dict) -> None:
        """Both cache stages ran musubi's real scripts (`Nit [..]`, no total) and the task showed their counts."""
        stages = [s for s in run["logs"] if s != "train"]
        assert len(stages) == 2, list(run["logs"])
        for stage in stages:
            assert re.search(r"\d+it \[", run["logs"][stage]), run["logs"][stage][-2000:]
            counts = [p.get("step") for p in run["progress"] if p.get("stage") == stage]
            assert any(counts), (stage, run["progress"])

    def cache_after(self, run: dict) -> Path:
        """The run's cache folder, once its task has ended done and both cache stages showed their progress."""
        task = run["task"]
        assert task["status"] == "done", (task["error"], run["logs"]["train"][-3000:])
        self.cache_stages_showed_progress(run)
        return run["folder"].parent / "cache"

    @staticmethod
    def assert_cached(cache: Path, expected: list[str]) -> list[str]:
        """The cache's .safetensors files are exactly `expected` (sorted); returns them."""
        names = sorted(p.name for p in cache.glob("*.safetensors"))
        assert names == expected, sorted(p.name for p in cache.iterdir())
        return names

    def loss_steps(self, task_id: str) -> list[int]:
        return [p["step"] for p in self.call("GET", f"/api/tasks/{task_id}/loss")["points"]]


STAGES = ("cache_latents", "cache_text_encoder", "train")

# The training settings every tiny run shares: a rank-4 LoRA, plain AdamW, no workers, fp32 files; saving by
# steps and epochs with states.
LEAN_TRAINING = {"optimizer_type": "AdamW", "network_dim": 4, "network_alpha": 4, "save_every_n_epochs": 1,
                 "save_every_n_steps": 2, "save_state": True, "max_data_loader_n_workers": 0,
                 "persistent_data_loader_workers": False, "gradient_checkpointing": False, "save_precision": "fp32"}


def lean_task(task_type: str, ds_id: str, models: dict, name: str = "tiny", *, epochs: int = 2, training=None,
              samples=None, **fields) -> dict:
    """A task at the smallest size: 64x64 without buckets, LEAN_TRAINING, samples of 2 steps every 2 steps and
    every epoch (`samples` adds to them, e.g. prompts)."""
    return {"name": name, "task_type": task_type, "dataset_id": ds_id, "vram_preset": "high", "gpus": [0],
            "models": models, "dataset": {"resolution": [64, 64], "enable_bucket": False},
            "training": {"max_train_epochs": epochs, **LEAN_TRAINING, **(training or {})},
            "samples": {"every_n_epochs": 1, "every_n_steps": 2, "width": 64, "height": 64, "steps": 2,
                        "prompts": [{"prompt": "a red square", "seed": 42}], **(samples or {})},
            **fields}


# The leanest run that still saves and samples (the types beyond the first ones): 2 steps (one image, 2 epochs),
# a checkpoint and state at epoch 1 and the final ones, a single sample at the end (sampling by steps as well
# would sample step 2 twice: at the step and again at the end of the epoch, by the same rule).
ONE_SAMPLE_AT_THE_END = {"training": {"save_every_n_steps": None},
                         "samples": {"every_n_steps": None, "every_n_epochs": 2}}


def on_disk(folder: Path) -> dict:
    return {"checkpoints": sorted(p.name for p in folder.glob("*.safetensors")),
            "states": sorted(p.name for p in folder.glob("*-state") if p.is_dir()),
            "samples": sorted(p.name for p in (folder / "sample").glob("*") if p.is_file())}


def _make_real(trainer: dict, tmp: Path, mp: pytest.MonkeyPatch):
    from server import create_app
    from tests.conftest import TOKEN

    for key, value in _tiny_env().items():
        mp.setenv(key, value)
    data_dir = tmp / "data"
    data_dir.mkdir()
    app = create_app(data_dir=data_dir, token=TOKEN, testing=True, gpu_provider="none")
    api = Api(app.test_client())
    r = api.patch("/api/settings", json={"musubi_dir": trainer["musubi_dir"]})
    assert r.status_code == 200, r.get_json()
    # the tokenizers musubi would download on a first run, where the app tells it to look (HF_HOME)
    shutil.copytree(trainer["hf"], data_dir / "huggingface")
    return app, Real(api=api, svc=app.extensions["workbench"], data_dir=data_dir, trainer=trainer, tmp=tmp)


def _close(app, r: Real) -> None:
    """Stop what is still running (a failed test), then shut the app down: shutting down alone leaves a live
    run to be re-attached by the next start, which a test's app never gets."""
    for t in r.call("GET", "/api/tasks")["tasks"]:
        if t["status"] in ("queued", "running", "stopping"):
            r.api.post(f"/api/tasks/{t['id']}/stop")
            r.wait_task(t["id"], ("stopped", "failed", "done", "interrupted", "draft"), timeout=120)
    app.extensions["workbench"].shutdown()


@pytest.fixture
def real(trainer, tmp_path):
    with pytest.MonkeyPatch.context() as mp:
        app, r = _make_real(trainer, tmp_path, mp)
        yield r
        _close(app, r)


@pytest.fixture(scope="module")
def real_module(trainer, tmp_path_factory):
    """One app for a module whose tests share a run."""
    with pytest.MonkeyPatch.context() as mp:
        app, r = _make_real(trainer, tmp_path_factory.mktemp("real"), mp)
        yield r
        _close(app, r)
