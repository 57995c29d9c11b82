"""A PC without an NVIDIA GPU can set up the trainer (issue 13, item 8): "auto" installs the CUDA 12.8 build
for a GPU added later, "cpu" the CPU-only build; the detection says which build and what it means, and for
every action it cannot run, why."""

from __future__ import annotations

import os
import threading

import pytest

from server.runtime import detect, driver, pythons, setup
from tests.runtime.fakes import make_checkout, make_index, make_wheels, venv_python

NO_DRIVER = {"available": False, "driver": None, "cuda": None, "gpus": []}
DRIVER_128 = {"available": True, "driver": "572.16", "cuda": "12.8", "gpus": ["NVIDIA GeForce RTX 4090"]}
DRIVER_121 = {"available": True, "driver": "531.00", "cuda": "12.1", "gpus": ["NVIDIA GeForce RTX 3060"]}


@pytest.mark.parametrize("choice, dr, source, platform, expect", [
    ("auto", DRIVER_128, "pytorch", "win32", {"extra": "cu128", "reason": "driver", "kind": "cuda", "means": "gpu"}),
    ("auto", NO_DRIVER, "pytorch", "win32", {"extra": "cu128", "reason": "no_gpu", "cuda": "12.8",
                                             "means": "later_gpu", "min_driver": "570"}),
    ("auto", DRIVER_121, "pytorch", "win32", {"extra": "cu128", "reason": "driver_too_old",
                                              "means": "driver_update"}),
    ("cu130", DRIVER_128, "pytorch", "win32", {"extra": "cu130", "reason": "chosen", "means": "driver_update",
                                               "min_driver": "580"}),
    ("cu124", NO_DRIVER, "pytorch", "linux", {"extra": "cu124", "means": "later_gpu", "cuda": "12.4"}),
    ("cpu", NO_DRIVER, "pytorch", "win32", {"extra": "cpu", "kind": "cpu", "cuda": None, "means": "cpu_only"}),
    ("cpu", DRIVER_128, "pytorch", "win32", {"extra": "cpu", "means": "cpu_only"}),
    # PyPI has no CUDA build of torch for Windows: whatever is chosen, that is the CPU-only build
    ("auto", DRIVER_128, "pypi", "win32", {"kind": "cpu", "means": "pypi_windows_cpu"}),
    ("cu128", NO_DRIVER, "pypi", "linux", {"kind": "pypi", "means": "pypi_default"}),
])
def test_torch_build_says_what_setup_installs(choice, dr, source, platform, expect):
    build = driver.torch_build(choice, dr, source, platform)
    assert {k: build[k] for k in expect} == expect
    with pytest.raises(ValueError):
        driver.torch_build("cu121", dr)


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setenv("LORA_WORKBENCH_NVIDIA_DRIVER", "none")


def test_without_a_gpu_setup_is_offered_and_the_build_stated(api, svc, tmp_path, no_gpu):
    assert pythons.best(pythons.find()), "this machine needs a Python 3.10-3.12 with venv to build environments"
    api.patch("/api/settings", json={"musubi_dir": str(tmp_path / "musubi-tuner")})
    # the fast first answer has not looked for a Python yet, and says so
    assert api.get("/api/runtime").get_json()["setup"]["blocked"]["setup"] == "not_checked"
    body = api.post("/api/runtime/detect").get_json()
    s = body["setup"]
    assert "no_gpu" in [p["code"] for p in body["problems"]] and not body["usable"]
    assert s["can_setup"] and s["blocked"] == {"setup": None, "update": "not_installed", "repair": "not_installed"}
    assert s["extra"] == "cu128" and s["auto_extra"] == "cu128"
    assert s["build"]["means"] == "later_gpu" and s["build"]["min_driver"] == "570"
    # from then on the fast answer knows (a changed torch build is stated at once)
    assert api.get("/api/runtime").get_json()["setup"]["blocked"]["setup"] is None
    # setup installs what was stated
    assert setup.plan(svc.store, None, {"action": "setup"}).extra == "cu128"
    assert api.patch("/api/settings", json={"musubi_cuda_extra": "cpu"}).status_code == 200
    s = api.get("/api/runtime").get_json()["setup"]
    assert s["extra"] == "cpu" and s["build"]["means"] == "cpu_only" and s["auto_extra"] == "cu128"
    assert setup.plan(svc.store, None, {"action": "setup"}).extra == "cpu"


def test_every_blocked_action_says_why(api, svc, tmp_path, no_gpu, monkeypatch):
    checkout = make_checkout(tmp_path / "musubi-tuner")
    api.patch("/api/settings", json={"musubi_dir": str(checkout)})
    blocked = api.post("/api/runtime/detect").get_json()["setup"]["blocked"]
    assert blocked == {"setup": None, "update": None, "repair": None}
    # the user's own Python: the app manages only its own environment (and plan() refuses the same)
    api.patch("/api/settings", json={"musubi_python": str(tmp_path / "mine" / "python")})
    s = api.post("/api/runtime/detect").get_json()["setup"]
    assert set(s["blocked"].values()) == {"custom_python"} and not s["can_setup"]
    api.patch("/api/settings", json={"musubi_python": ""})
    # a training task running with this environment
    svc.store.db["tasks"].insert({"id": "t1", "name": "x", "status": "running"})
    assert set(api.post("/api/runtime/detect").get_json()["setup"]["blocked"].values()) == {"training_running"}
    svc.store.db["tasks"].delete("t1")
    # a setup job running
    gate = threading.Event()
    job = svc.jobs.submit(detect.SETUP_JOB_KIND, "setup", lambda ctx: gate.wait(30), owner=detect.SETUP_OWNER)
    try:
        assert set(api.get("/api/runtime").get_json()["setup"]["blocked"].values()) == {"setup_running"}
    finally:
        gate.set()
        svc.jobs.wait(job["id"])
    # no Python on this PC to build an environment with (the seam: what pythons.find reports)
    monkeypatch.setattr(pythons, "find", lambda extra=(): [])
    s = api.post("/api/runtime/detect").get_json()["setup"]
    assert set(s["blocked"].values()) == {"no_system_python"} and not s["can_repair"]


def test_cpu_build_setup_installs_the_cpu_wheels(api, svc, tmp_path, no_gpu, monkeypatch):
    """The real setup job (git clone of a local repository, pip from local PEP 503 indexes) with the CPU build:
    torch comes from <torch index>/cpu, musubi-tuner is installed without a CUDA extra."""
    from tests.runtime.fakes import git

    remote = make_checkout(tmp_path / "remote" / "musubi-tuner", git_repo=True)
    monkeypatch.setattr(detect, "pinned", lambda: {"version": "0.3.4", "commit": git("rev-parse", "HEAD",
                                                                                       cwd=remote)})
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    plain = make_index(tmp_path / "pypi", make_wheels(tmp_path / "w-pypi", torch_version="2.9.1", cuda="12.8"))
    make_index(tmp_path / "pytorch" / "cpu", make_wheels(tmp_path / "w-cpu", torch_version="2.7.1+cpu", cuda=""))
    target = tmp_path / "app" / "musubi-tuner"
    r = api.patch("/api/settings", json={"musubi_dir": str(target), "musubi_repo_url": str(remote),
                                         "musubi_find_links": "", "musubi_pip_index_url": plain,
                                         "musubi_torch_index_url": (tmp_path / "pytorch").as_uri(),
                                         "musubi_cuda_extra": "cpu"})
    assert r.status_code == 200, r.get_json()
    r = api.post("/api/runtime/setup", json={"action": "setup"})
    assert r.status_code == 202, r.get_json()
    job = svc.jobs.wait(r.get_json()["job"]["id"], timeout=300)
    log = (svc.layout.logs / f"runtime-{job['id']}.log").read_text()
    assert job["status"] == "done", log
    assert job["result"]["torch"]["version"] == "2.7.1+cpu" and job["result"]["extra"] == "cpu"
    assert f"{(tmp_path / 'pytorch').as_uri()}/cpu" in log
    assert f"install -e {target} " in log and f"{target}[" not in log
    assert job["message_code"] == "done"
    assert venv_python(target / ".venv").is_file()
    # the environment is set up; it cannot train, and the advice says why in the user's terms
    body = api.post("/api/runtime/detect").get_json()
    cpu_only = next(p for p in body["problems"] if p["code"] == "torch_cpu_only")
    assert cpu_only["action_code"] == "torch_cpu_only_chosen" and cpu_only["details"]["version"] == "2.7.1+cpu"
    assert body["setup"]["can_repair"]
