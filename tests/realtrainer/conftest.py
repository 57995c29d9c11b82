"""The REAL musubi-tuner behind the app, on a CPU, with tiny random-weight models (see README's test section).

- `trainer` (session): musubi-tuner installed by the app's own setup job (trainer_env.py), cached outside the
  repository, plus the tiny models and the fake Hugging Face cache made with its Python (make_tiny.py).
- `real` (per test): a fresh app (real sqlite in a tmp data folder) whose settings point at that install;
  the tiny tokenizers copied to <data>/huggingface, where the app points HF_HOME for every stage; the
  import hook of tiny/sitecustomize.py switched on for the trainer's processes (PYTHONPATH + LW_TINY_MUSUBI);
  HF_HUB_OFFLINE=1 so nothing reaches for the network.
Everything else goes through the app's HTTP API (`real.api`), as the UI does.
"""

from __future__ import annotations

import json
import os
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
    tiny = Path(info["musubi_dir"]).parent / "tiny"
    stamp = tiny / "ready.json"
    sources = {p.name: p.read_text(encoding="utf-8") for p in (HERE / "make_tiny.py", TINY_DIR / "sitecustomize.py")}
    if not stamp.is_file() or json.loads(stamp.read_text())["sources"] != sources:
        shutil.rmtree(tiny, ignore_errors=True)
        res = subprocess.run([info["python"], str(HERE / "make_tiny.py"), str(tiny)], capture_output=True, text=True,
                             env={**os.environ, **_tiny_env()}, timeout=600)
        assert res.returncode == 0, res.stdout + res.stderr
        stamp.write_text(json.dumps({"sources": sources}), encoding="utf-8")
    info["models"] = {p.stem: str(p) for p in (tiny / "models").glob("*.safetensors")}
    info["hf"] = tiny / "hf"
    return info


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

    def image_dataset(self, count: int = 2, name: str = "Squares") -> str:
        ds = self.call("POST", "/api/datasets", {"name": name, "type": "image"}, expect=201)["dataset"]
        folder = self.tmp / f"pics-{ds['id']}"
        folder.mkdir()
        colours = ["red", "green", "blue", "orange"]
        for i in range(count):
            Image.new("RGB", (64, 64), colours[i % 4]).save(folder / f"img{i}.png")
            (folder / f"img{i}.txt").write_text(f"a {colours[i % 4]} square", encoding="utf-8")
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
