"""Detection of the trainer environment against a fake musubi-tuner checkout and fake Python envs."""

from __future__ import annotations

import stat
import sys
import textwrap

import pytest

from server.runtime import detect, driver, probe, procs, pythons
from server.training import musubi_env
from tests.runtime.fakes import make_checkout, make_env


@pytest.fixture
def checkout(tmp_path):
    return make_checkout(tmp_path / "musubi-tuner")


@pytest.fixture(autouse=True)
def nvidia(monkeypatch):
    monkeypatch.setenv("LORA_WORKBENCH_NVIDIA_DRIVER", "572.16/12.8")
    for name in ("FAKE_TORCH_CUDA", "FAKE_TORCH_GPU", "FAKE_TORCH_CUDA_BUILD", "FAKE_TORCH_VERSION"):
        monkeypatch.delenv(name, raising=False)


def point(api, checkout, python):
    r = api.patch("/api/settings", json={"musubi_dir": str(checkout), "musubi_python": str(python)})
    assert r.status_code == 200


def codes(body):
    return [p["code"] for p in body["problems"]]


def test_working_environment(api, checkout, tmp_path):
    py = make_env(tmp_path / "env", musubi_src=checkout / "src")
    point(api, checkout, py)
    body = api.post("/api/runtime/detect").get_json()
    assert body["usable"], body["problems"]
    assert body["musubi"]["is_checkout"] and body["musubi"]["version"] == "0.3.4"
    assert body["musubi"]["pinned"]["commit"].startswith("30c658c4")
    assert body["python"]["exists"] and body["probe"]["python"] == "%d.%d.%d" % sys.version_info[:3]
    assert body["torch"]["version"] == "2.7.1+cu128" and body["torch"]["cuda"] == "12.8"
    assert body["torch"]["cuda_available"] and body["torch"]["devices"][0]["name"] == "NVIDIA GeForce RTX 4090"
    assert body["accelerate"]["version"] == "1.6.0"
    assert body["driver"] == {**body["driver"], "driver": "572.16", "cuda": "12.8", "recommended_extra": "cu128"}
    assert body["git"]["path"]
    assert any(p["supported"] for p in body["system_pythons"])
    assert not [p for p in body["problems"] if p["severity"] == "error"]
    # the fast GET reuses the stored probe
    fast = api.get("/api/runtime").get_json()
    assert fast["torch"]["version"] == "2.7.1+cu128" and fast["usable"]


@pytest.mark.parametrize("env_kw,environ,code", [
    ({"torch": None}, {}, "torch_missing"),
    ({"torch": "2.7.1", "cuda": None}, {}, "torch_cpu_only"),
    ({}, {"FAKE_TORCH_CUDA": "0"}, "cuda_unavailable"),
    ({"accelerate": False}, {}, "accelerate_missing"),
    ({"torch": "2.5.1+cu124", "cuda": "12.4"}, {"FAKE_TORCH_GPU": "NVIDIA GeForce RTX 5090"}, "blackwell_needs_cu128"),
])
def test_broken_environments_are_explained_and_block_training(api, svc, checkout, tmp_path, monkeypatch, env_kw,
                                                             environ, code):
    for k, v in environ.items():
        monkeypatch.setenv(k, v)
    py = make_env(tmp_path / "env", musubi_src=checkout / "src", **env_kw)
    point(api, checkout, py)
    body = api.post("/api/runtime/detect").get_json()
    assert code in codes(body), body["problems"]
    problem = next(p for p in body["problems"] if p["code"] == code)
    assert problem["severity"] == "error" and problem["message"] and problem["action"]
    assert not body["usable"]
    # a training start is refused with the same explanation
    problems = musubi_env.from_store(svc.store).problems()
    assert any(problem["message"] in msg for _, msg in problems), problems


def test_musubi_not_installed_in_env(api, checkout, tmp_path):
    point(api, checkout, make_env(tmp_path / "env"))
    assert "musubi_not_installed" in codes(api.post("/api/runtime/detect").get_json())


def test_nothing_set_up(api, svc, tmp_path, monkeypatch):
    monkeypatch.setenv("LORA_WORKBENCH_NVIDIA_DRIVER", "none")
    api.patch("/api/settings", json={"musubi_dir": str(tmp_path / "none")})
    body = api.post("/api/runtime/detect").get_json()
    assert codes(body)[:2] == ["musubi_missing", "python_missing"]
    assert "no_gpu" in codes(body) and not body["usable"]
    # no GPU is no dead end: setup installs the CUDA 12.8 build for a GPU added later, and says so
    assert body["setup"]["extra"] == "cu128" and body["setup"]["build"]["means"] == "later_gpu"
    assert body["setup"]["can_setup"] == (body["setup"]["python_for_venv"] is not None)


def test_driver_too_old_and_version_mismatch(api, tmp_path, monkeypatch):
    monkeypatch.setenv("LORA_WORKBENCH_NVIDIA_DRIVER", "531.00/12.1")
    checkout = make_checkout(tmp_path / "m", version="0.2.15")
    py = make_env(tmp_path / "env", musubi_src=checkout / "src")
    point(api, checkout, py)
    body = api.post("/api/runtime/detect").get_json()
    assert "driver_too_old" in codes(body) and "musubi_version_differs" in codes(body)


def test_a_venv_inside_the_checkout_is_offered(api, checkout, tmp_path):
    make_env(checkout / "venv", musubi_src=checkout / "src")
    api.patch("/api/settings", json={"musubi_dir": str(checkout)})
    body = api.get("/api/runtime").get_json()
    problem = next(p for p in body["problems"] if p["code"] == "python_missing")
    assert problem["candidates"] == [str(checkout / "venv" / "bin" / "python")] or sys.platform == "win32"


def test_setup_job_blocks_training(api, svc, checkout, tmp_path):
    py = make_env(tmp_path / "env", musubi_src=checkout / "src")
    point(api, checkout, py)
    import threading

    release = threading.Event()
    job = svc.jobs.submit(detect.SETUP_JOB_KIND, "setup", lambda ctx: release.wait(10), owner=detect.SETUP_OWNER)
    try:
        assert any("being set up" in m for _, m in musubi_env.from_store(svc.store).problems())
        assert "setup_running" in codes(api.get("/api/runtime").get_json())
    finally:
        release.set()
        svc.jobs.wait(job["id"])
    assert musubi_env.from_store(svc.store).problems() == []


def test_choose_extra():
    assert driver.choose_extra("12.8", ["NVIDIA GeForce RTX 4090"]) == "cu128"
    assert driver.choose_extra("13.0", ["NVIDIA GeForce RTX 3060"]) == "cu128"
    assert driver.choose_extra("12.6", ["NVIDIA GeForce RTX 3060"]) == "cu124"
    assert driver.choose_extra("12.6", ["NVIDIA GeForce RTX 5090"]) is None
    assert driver.choose_extra("12.2", []) is None
    assert driver.choose_extra(None, []) is None
    assert driver.supported_extras("13.0") == ["cu130", "cu128", "cu124"]
    assert driver._parse_cuda(12080) == (12, 8)


def test_pythons_found_and_judged():
    found = pythons.find()
    assert any(p["executable"] and p["supported"] for p in found)
    assert pythons.supported("3.12.4") and pythons.supported("3.10.0")
    assert not pythons.supported("3.13.0") and not pythons.supported("3.9.18")


def test_probe_timeout_and_bad_interpreter(tmp_path):
    slow = tmp_path / "slowpython"
    slow.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(30)\n")
    slow.chmod(slow.stat().st_mode | stat.S_IEXEC)
    r = probe.run(slow, timeout=1)
    assert not r["ok"] and "did not answer" in r["error"]
    r = probe.run(tmp_path / "missing-python")
    assert not r["ok"] and r["error"]


def test_procs_stream_cancel_ends_the_tree(tmp_path):
    script = textwrap.dedent("""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print(child.pid, flush=True)
        time.sleep(60)
    """)
    out = []
    flag = {"stop": False}

    def on_output(text):
        out.append(text)
        flag["stop"] = True

    with pytest.raises(procs.Cancelled):
        procs.stream([sys.executable, "-c", script], on_output, cancelled=lambda: flag["stop"])
    import psutil

    child = int("".join(out).split()[0])
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE


def test_redact():
    assert procs.redact("git clone https://user:tok3n@example.com/x.git") == "git clone https://***@example.com/x.git"
    assert procs.redact("https://pypi.org/simple") == "https://pypi.org/simple"
