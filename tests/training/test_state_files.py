"""Resuming past saved states (and checkpoints) a stop or crash cut short while they were written: state_files'
verdicts and resume_point's choice, on folders built as accelerate writes them (tests/realtrainer/test_zimage.py
does the same with real musubi states)."""

from __future__ import annotations

import pytest

from server.errors import ValidationError
from server.models.safetensors_header import write_file
from server.training import config, planning, state_files, task_types
from server.training.commands import TaskPaths

from .helpers import raw_config, saved_state


def _task(training: dict) -> dict:
    cfg = config.check(raw_config(task_types.get("qwen-image-lora"), "original", name="Cat", training=training))
    return {"id": "task_1", "config": cfg, "run": {}, "progress": {"total_steps": 8, "total_epochs": 4}}


def _cut(path, keep: float = 0.5):
    path.write_bytes(path.read_bytes()[:int(path.stat().st_size * keep)])


def test_a_whole_state_has_no_problems_and_each_cut_shows(tmp_path):
    state = saved_state(tmp_path / "Cat-000001-state")
    assert state_files.state_problems(state) == {}
    (state / "random_states_0.pkl").unlink()               # stopped before accelerate's last write
    _cut(state / "optimizer.bin")                          # stopped in the middle of one
    _cut(state / "model.safetensors", 0.9)
    assert state_files.state_problems(state) == {"model.safetensors": "truncated", "optimizer.bin": "cut short (BadZipFile)",
                                                 "random_states_0.pkl": "missing"}


def test_resume_takes_the_newest_whole_state_and_says_which_it_passed_over(tmp_path):
    out = tmp_path / "output"
    for epoch in (1, 2, 3):
        saved_state(out / f"Cat-{epoch:06d}-state")
    _cut(out / "Cat-000003-state" / "scheduler.bin")
    (out / "Cat-000002-state" / "random_states_0.pkl").unlink()
    resume, _ = planning.resume_point(_task({"max_train_epochs": 4, "save_state": True}), TaskPaths(tmp_path),
                                      "state")
    assert resume["path"] == str(out / "Cat-000001-state") and resume["max_train_epochs"] == 3
    assert [s["name"] for s in resume["skipped"]] == ["Cat-000003-state", "Cat-000002-state"]
    assert state_files.skipped_warnings(resume)[0].startswith("Cat-000003-state is incomplete (scheduler.bin cut short")


def test_resume_with_no_whole_state_is_refused_naming_the_files(tmp_path):
    state = saved_state(tmp_path / "output" / "Cat-000002-state")
    (state / "random_states_0.pkl").unlink()
    with pytest.raises(ValidationError) as err:
        planning.resume_point(_task({"max_train_epochs": 4, "save_state": True}), TaskPaths(tmp_path), "state")
    assert err.value.code == "resume_incomplete"
    assert err.value.details["files"] == "Cat-000002-state: random_states_0.pkl missing"


def test_resume_from_weights_passes_over_a_cut_checkpoint(tmp_path):
    out = tmp_path / "output"
    out.mkdir()
    for epoch in (1, 2):
        write_file(out / f"Cat-{epoch:06d}.safetensors", {"lora_unet_x.lora_down.weight": ("F32", [4, 8])})
    _cut(out / "Cat-000002.safetensors", 0.8)
    resume, _ = planning.resume_point(_task({"max_train_epochs": 4, "lr_scheduler": "constant"}), TaskPaths(tmp_path),
                                      "weights")
    assert resume["path"] == str(out / "Cat-000001.safetensors")
    assert resume["skipped"] == [{"name": "Cat-000002.safetensors", "problems": {"Cat-000002.safetensors": "truncated"}}]
