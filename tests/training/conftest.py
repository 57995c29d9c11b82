"""Fixtures for training tests that run processes.

The trainer is the STAND-IN in tests/standin/fake_musubi (see its README): a fake musubi-tuner
checkout whose scripts print what musubi prints and write files under musubi's names, because
the real trainer needs a GPU and model weights. The app is pointed at it through the settings
`musubi_dir` / `musubi_python` (this interpreter).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from server.training.runner import TaskRunner
from tests import hub_cache
from tests.models.helpers import qwen_model_files
from server.training.supervisor import Supervisor
from .media import png, video

TOKEN_FREE = "test-secret-token"
STANDIN = Path(__file__).resolve().parents[1] / "standin" / "fake_musubi"


@pytest.fixture(autouse=True)
def fast_supervision(monkeypatch):
    monkeypatch.setattr(Supervisor, "TICK_S", 0.1)
    monkeypatch.setattr(Supervisor, "STOP_TIMEOUT_S", 3.0)
    monkeypatch.setattr(TaskRunner, "POLL_S", 0.03)
    monkeypatch.setattr(TaskRunner, "SAVE_EVERY_S", 0.2)
    monkeypatch.setattr(TaskRunner, "OUTPUT_SCAN_EVERY_S", 0.1)
    monkeypatch.setattr(TaskRunner, "TREE_EVERY_S", 0.05)
    monkeypatch.setenv("FAKE_MUSUBI_STEP_S", "0.02")
    for name in ("FAKE_MUSUBI_CRASH_AT_STEP", "FAKE_MUSUBI_IGNORE_SIGTERM", "FAKE_MUSUBI_STEP_LOG"):
        monkeypatch.delenv(name, raising=False)


def point_at_standin(store) -> None:
    store.set_setting("musubi_dir", str(STANDIN))
    store.set_setting("musubi_python", sys.executable)
    hub_cache.seed(store.path.parent)   # the data folder: its tokenizers are "already downloaded"


def add_dataset(svc, dataset_id="ds_0000c0de", type_="image", count=3, name="Cats") -> Path:
    """A dataset row and folder as docs/ARCHITECTURE.md lays them out (media + same-stem captions)."""
    now = time.time()
    svc.store.db["datasets"].insert({"id": dataset_id, "name": name, "type": type_, "created_at": now,
                                     "updated_at": now, "trashed_at": None}, alter=True)
    media = svc.layout.datasets / dataset_id / "media"
    control = svc.layout.datasets / dataset_id / "control"
    media.mkdir(parents=True)
    control.mkdir(parents=True)
    for i in range(count):
        # Real files (the pre-flight check reads their headers), each one different (no duplicates).
        if type_ == "video":
            video(media / f"img{i}.mp4", shade=i * 30)
        else:
            png(media / f"img{i}.png", color=(i * 40 % 256, 80, 120))
        (media / f"img{i}.txt").write_text(f"caption {i}", encoding="utf-8")
        if type_ == "image_control":
            png(control / f"img{i}.png", color=(i * 40 % 256, 10, 10))
    return media


@pytest.fixture
def models(tmp_path) -> dict:
    return qwen_model_files(tmp_path / "models")


@pytest.fixture
def trainer(svc, models):
    """The app wired to the stand-in trainer, with one 3-image dataset."""
    point_at_standin(svc.store)
    add_dataset(svc)
    return svc


def qwen_task(models, name="Cat LoRA", epochs=2, gpus=None, samples=True, **training) -> dict:
    raw = {"name": name, "task_type": "qwen-image-lora", "dataset_id": "ds_0000c0de", "models": models,
           "vram_preset": "low", "gpus": gpus or [0],
           "training": {"max_train_epochs": epochs, "save_every_n_epochs": 1, "save_state": True, **training}}
    if samples:
        raw["samples"] = {"every_n_epochs": 1, "prompts": [{"prompt": "a cat", "seed": 7},
                                                           {"prompt": "a dog", "width": 512, "height": 512}]}
    return raw
