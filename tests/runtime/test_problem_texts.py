"""The trainer environment's problems reach a Chinese screen in Chinese (issue 13, item 6/8): each has a code
(title rt.problem.<code>), its message line rt.detail.<code> and its advice rt.action.<action_code> filled
from the problem's `details`. A static scan finds every code the server can send; real detections of many
broken environments check that the details fill every placeholder the translations use."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from server.runtime import detect
from server.system import longpaths
from tests.runtime.fakes import make_checkout, make_env
from tests.ui.test_i18n_tables import merged, tables  # noqa: F401 - the fixture: the tables as Vite loads them

SERVER = Path(__file__).resolve().parents[2] / "server"
SOURCES = [*sorted((SERVER / "runtime").glob("*.py")), SERVER / "system" / "longpaths.py"]
PROBLEM = re.compile(r"_problem\(\s*\"([a-z0-9_]+)\"|\"code\": \"([a-z0-9_]+)\", \"severity\"")
ACTION_LINE = re.compile(r"action_code\b[^=\n]*=(?!=)(.*)")
ACTION_CODE = re.compile(r"(?:=|else|,)\s*\(?\"([a-z0-9_]+)\"")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def scan() -> tuple[set[str], set[str]]:
    problems, actions = set(), set()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        problems |= {a or b for a, b in PROBLEM.findall(text)}
        for rest in ACTION_LINE.findall(text):
            actions |= set(ACTION_CODE.findall("=" + rest))
    return problems, actions


def test_the_scan_finds_problems_and_advice_codes():
    problems, actions = scan()
    assert {"musubi_missing", "no_gpu", "long_paths_disabled", "setup_running", "torch_cpu_only"} <= problems
    assert {"torch_cpu_only_chosen", "python_missing_candidate", "cuda_unavailable_driver_older"} <= actions
    assert len(problems) >= 17


def test_every_problem_code_has_its_texts(tables):  # noqa: F811
    keys = merged(tables)
    problems, actions = scan()
    for locale in keys:
        missing = sorted(f"{prefix}.{c}" for c in problems for prefix in ("rt.problem", "rt.detail")
                         if f"{prefix}.{c}" not in keys[locale])
        assert not missing, (locale, missing)
    # English shows the server's own advice; every other language needs a translation of each kind of advice
    missing = sorted(c for c in problems | actions if not keys["zh-CN"].get(f"rt.action.{c}"))
    assert not missing, missing
    english = sorted(c for c in problems if not re.search(r"[\u4e00-\u9fff]", keys["zh-CN"][f"rt.detail.{c}"]))
    assert not english, english


def _check(problem: dict, keys: dict) -> None:
    zh = keys["zh-CN"]
    for key in (f"rt.detail.{problem['code']}", f"rt.action.{problem['action_code']}"):
        unfilled = set(PLACEHOLDER.findall(zh[key])) - set(problem["details"])
        assert not unfilled, (key, unfilled, problem)


def test_real_problems_fill_their_translations(api, svc, tmp_path, monkeypatch, tables):  # noqa: F811
    keys = merged(tables)
    for name in ("FAKE_TORCH_CUDA", "FAKE_TORCH_GPU", "FAKE_TORCH_CUDA_BUILD", "FAKE_TORCH_VERSION"):
        monkeypatch.delenv(name, raising=False)
    seen: dict[str, set[str]] = {}

    def detect_with(driver: str, **settings) -> None:
        monkeypatch.setenv("LORA_WORKBENCH_NVIDIA_DRIVER", driver)
        assert api.patch("/api/settings", json=settings).status_code == 200
        for p in detect.detect(svc.store, None, run_probe=True, find_pythons=False)["problems"]:
            _check(p, keys)
            seen.setdefault(p["code"], set()).add(p["action_code"])

    checkout = make_checkout(tmp_path / "musubi-tuner")
    old = make_checkout(tmp_path / "old-musubi", version="0.2.15")
    # nothing set up, no GPU, no git
    monkeypatch.setenv(detect.GIT_ENV, "none")
    detect_with("none", musubi_dir=str(tmp_path / "nothing"), musubi_python="")
    monkeypatch.delenv(detect.GIT_ENV)
    # a venv found inside the checkout, not chosen
    make_env(checkout / "venv", musubi_src=checkout / "src")
    detect_with("572.16/12.8", musubi_dir=str(checkout), musubi_python="")
    # the CPU-only build the user chose, on a PC without a GPU
    cpu = make_env(tmp_path / "cpu", torch="2.7.1+cpu", cuda=None, musubi_src=checkout / "src")
    detect_with("none", musubi_dir=str(checkout), musubi_python=str(cpu), musubi_cuda_extra="cpu")
    detect_with("none", musubi_cuda_extra="auto")
    # a CUDA 12.8 build under a driver that supports 12.4 only; then an old driver; an old checkout
    monkeypatch.setenv("FAKE_TORCH_CUDA", "0")
    cu128 = make_env(tmp_path / "cu128", musubi_src=checkout / "src")
    detect_with("550.54/12.4", musubi_python=str(cu128))
    detect_with("531.00/12.1", musubi_dir=str(old))
    detect_with("none")
    monkeypatch.delenv("FAKE_TORCH_CUDA")
    # RTX 50 with a cu124 build; no torch, no accelerate, musubi not installed; a Python that does not run
    monkeypatch.setenv("FAKE_TORCH_GPU", "NVIDIA GeForce RTX 5090")
    detect_with("572.16/12.8", musubi_dir=str(checkout),
                musubi_python=str(make_env(tmp_path / "cu124", torch="2.5.1+cu124", cuda="12.4",
                                           musubi_src=checkout / "src")))
    detect_with("572.16/12.8", musubi_python=str(make_env(tmp_path / "bare", torch=None, accelerate=False)))
    broken = tmp_path / "broken-python"
    broken.write_text("not a program\n")
    broken.chmod(0o755)
    detect_with("572.16/12.8", musubi_python=str(broken))
    # a setup job running
    gate = threading.Event()
    job = svc.jobs.submit(detect.SETUP_JOB_KIND, "setup", lambda ctx: gate.wait(30), owner=detect.SETUP_OWNER)
    try:
        detect_with("572.16/12.8")
    finally:
        gate.set()
        svc.jobs.wait(job["id"])
    for p in longpaths.trainer_dir_problems(Path("C:/" + "x" * 300), enabled=False):
        _check(p, keys)
        seen.setdefault(p["code"], set()).add(p["action_code"])

    expected = {
        "musubi_missing": {"musubi_missing"}, "python_missing": {"python_missing_no_checkout",
                                                                  "python_missing_candidate"},
        "no_gpu": {"no_gpu"}, "git_missing": {"git_missing"},
        "torch_cpu_only": {"torch_cpu_only_chosen", "torch_cpu_only_no_gpu"},
        "cuda_unavailable": {"cuda_unavailable_driver_older", "driver_too_old", "cuda_unavailable_no_driver"},
        "driver_too_old": {"driver_too_old"}, "musubi_version_differs": {"musubi_version_differs"},
        "blackwell_needs_cu128": {"blackwell_needs_cu128"}, "torch_missing": {"torch_missing"},
        "accelerate_missing": {"accelerate_missing"}, "musubi_not_installed": {"musubi_not_installed"},
        "python_broken": {"python_broken"}, "setup_running": {"setup_running"},
        "long_paths_disabled": {"long_paths_disabled"},
    }
    for code, actions in expected.items():
        assert actions <= seen.get(code, set()), (code, seen.get(code))
