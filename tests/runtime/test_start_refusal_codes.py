"""A training start (or a conversion) refused because of a problem the last trainer check found says which
problem by code, with its details, so the UI translates it (issue 13, item 6): `trainer_env_problem` with
details.problem = the trainer environment's problem code (rt.detail.<code>); no checkout stays `musubi_missing`.
The create form's preview lists the same problems with their codes."""

from __future__ import annotations

import threading

import pytest

from server.errors import ValidationError
from server.runtime import detect
from server.training import musubi_env
from tests.runtime.fakes import make_checkout, make_env


@pytest.fixture(autouse=True)
def nvidia(monkeypatch):
    monkeypatch.setenv("LORA_WORKBENCH_NVIDIA_DRIVER", "572.16/12.8")
    for name in ("FAKE_TORCH_CUDA", "FAKE_TORCH_GPU", "FAKE_TORCH_CUDA_BUILD", "FAKE_TORCH_VERSION"):
        monkeypatch.delenv(name, raising=False)


def refusal(svc) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        musubi_env.from_store(svc.store).refuse_start()
    return info.value


def test_a_stored_probe_problem_refuses_with_its_code_and_details(api, svc, tmp_path):
    checkout = make_checkout(tmp_path / "musubi-tuner")
    py = make_env(tmp_path / "env", musubi_src=checkout / "src", torch=None)
    api.patch("/api/settings", json={"musubi_dir": str(checkout), "musubi_python": str(py)})
    api.post("/api/runtime/detect")
    err = refusal(svc)
    assert err.code == "trainer_env_problem" and err.details["problem"] == "torch_missing"
    assert "error" in err.details and err.details["field"] == "musubi_python"
    assert "(Settings > Trainer environment)" in err.message   # the English stays for logs and English screens
    listed = musubi_env.from_store(svc.store).coded_problems()
    assert [(p.code, p.setting) for p in listed] == [("torch_missing", "musubi_python")]


def test_a_running_setup_job_refuses_with_its_code(api, svc, tmp_path):
    checkout = make_checkout(tmp_path / "musubi-tuner")
    py = make_env(tmp_path / "env", musubi_src=checkout / "src")
    api.patch("/api/settings", json={"musubi_dir": str(checkout), "musubi_python": str(py)})
    release = threading.Event()
    job = svc.jobs.submit(detect.SETUP_JOB_KIND, "setup", lambda ctx: release.wait(10), owner=detect.SETUP_OWNER)
    try:
        err = refusal(svc)
        assert (err.code, err.details["problem"]) == ("trainer_env_problem", "setup_running")
    finally:
        release.set()
        svc.jobs.wait(job["id"])


def test_no_checkout_is_still_musubi_missing_with_the_path(api, svc, tmp_path):
    api.patch("/api/settings", json={"musubi_dir": str(tmp_path / "none")})
    err = refusal(svc)
    assert err.code == "musubi_missing" and err.details["path"] == str(tmp_path / "none")
