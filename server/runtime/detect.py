"""Detect the trainer's environment and explain every problem.

`detect(store, provider)` returns what the settings page shows:
  musubi  {dir, default_dir, configured, exists, is_checkout, version, commit, describe, pinned, matches_pinned,
          source: git | archive (unpacked without git; commit from archive.MARKER) | None}
  python  {path, configured, exists, version, probe...}
  torch / accelerate / musubi_package (from the probe), git {path, version}, system_pythons [...],
  driver {available, driver, cuda, gpus, supported_extras, recommended_extra},
  problems [{code, severity, field, message, action, details, action_code}]: the UI translates a problem by its
          code (rt.problem.<code>), its message line by rt.detail.<code> filled from `details`, its advice by
          rt.action.<action_code or code>; message and action are the English fallback
  usable, setup {...what the buttons can do, and for each one it cannot do, why: `blocked` {action: code}},
  build (driver.torch_build: which PyTorch setup installs and what that means here)
The last probe is kept in the store (PROBE_KEY) so a training start can refuse a broken environment
without running Python again (server/training/musubi_env.py).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from pathlib import Path

from .. import jobs, settings
from ..paths import program_dir
from ..training import cli_spec, musubi_env, tasks
from . import driver as drv
from . import probe as probe_mod
from . import procs, pythons, setting_keys  # noqa: F401  (setting_keys registers the keys read here)

PROBE_KEY = "_runtime_probe"       # private store key, never part of the settings API
# The system Pythons the last full check found: the fast GET (and the answer right after the torch build is
# changed) says what the buttons can do without looking again; every check refreshes it.
PYTHONS_KEY = "_runtime_pythons"
SETUP_JOB_KIND = "runtime_setup"
SETUP_OWNER = "runtime"
SETUP_ONLY = {"git_missing", "no_system_python", "musubi_version_differs"}


def setting(store, key: str):
    """A setting's stored value or its default."""
    return settings.value(store, key)


def pinned() -> dict:
    return cli_spec.spec_version()


def _problem(code, severity, message, action, field=None, details=None, action_code=None, **extra) -> dict:
    return {"code": code, "severity": severity, "field": field, "message": message, "action": action,
            "details": details or {}, "action_code": action_code or code, **extra}


def read_version(musubi_dir: Path) -> str | None:
    pyproject = musubi_dir / "pyproject.toml"
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        import tomllib

        return tomllib.loads(text).get("project", {}).get("version")
    except Exception:  # noqa: BLE001 - py3.10 has no tomllib; a broken file is "unknown version"
        m = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
        return m.group(1) if m else None


GIT_ENV = "LORA_WORKBENCH_GIT"


def git_path() -> str | None:
    """The git executable, or None. The environment variable LORA_WORKBENCH_GIT points elsewhere: the path of a
    git executable (e.g. a portable Git), or "none" to act as if git were not installed (tests, demos)."""
    override = os.environ.get(GIT_ENV, "").strip()
    if override.lower() == "none":
        return None
    if override:
        return override if os.path.isfile(override) else shutil.which(override)
    return shutil.which("git")


def git_info(musubi_dir: Path) -> dict:
    git = git_path()
    if not git or not (musubi_dir / ".git").exists():
        return {"commit": None, "describe": None, "dirty": None}
    head = procs.capture([git, "-C", str(musubi_dir), "rev-parse", "HEAD"], timeout=15)
    desc = procs.capture([git, "-C", str(musubi_dir), "describe", "--tags", "--always"], timeout=15)
    status = procs.capture([git, "-C", str(musubi_dir), "status", "--porcelain", "--untracked-files=no"], timeout=30)
    return {"commit": head.stdout.strip() if head.ok else None, "describe": desc.stdout.strip() if desc.ok else None,
            "dirty": bool(status.stdout.strip()) if status.ok else None}


def musubi_info(env: musubi_env.MusubiEnv, store) -> dict:
    from . import archive

    d = env.musubi_dir
    info = {"dir": str(d), "default_dir": str(program_dir() / "musubi-tuner"), "configured": bool(store.get_setting("musubi_dir", "")),
            "exists": d.is_dir(), "is_checkout": (d / "src" / "musubi_tuner").is_dir(),
            "version": read_version(d), **git_info(d), "pinned": pinned(), "source": None}
    if (d / ".git").exists():
        info["source"] = "git"
    else:
        # a copy unpacked from an archive (setup without git) names its commit in a marker file
        marker = archive.read_marker(d) if info["is_checkout"] else None
        if marker:
            info.update(source="archive", commit=marker["commit"])
    pin = info["pinned"]
    info["matches_pinned"] = (info["commit"] == pin["commit"]) if info["commit"] else (
        info["version"] == pin["version"] if info["version"] else None)
    return info


def venv_python(venv: Path) -> Path:
    return venv / "Scripts" / "python.exe" if sys.platform == "win32" else venv / "bin" / "python"


def venv_candidates(musubi_dir: Path) -> list[str]:
    out = []
    for name in (".venv", "venv", "env"):
        py = venv_python(musubi_dir / name)
        if py.is_file():
            out.append(str(py))
    return out


def stored_probe(store) -> dict | None:
    return store.get_setting(PROBE_KEY, None)


def training_running(store) -> bool:
    """A training task runs with this environment: setup, update and repair must wait."""
    return bool(tasks.running_count(store))


def blocked_actions(*, job, training: bool, custom_python: bool, is_checkout: bool, found, best) -> dict:
    """For setup / update / repair: None when it can run now, else the code of why not (rt.blocked.<code>)."""
    def why(needs_checkout: bool) -> str | None:
        if job:
            return "setup_running"
        if training:
            return "training_running"
        if custom_python:
            return "custom_python"
        if needs_checkout and not is_checkout:
            return "not_installed"
        if found is None:
            return "not_checked"        # the fast GET does not look for system Pythons; the check does
        if best is None:
            return "no_system_python"
        return None
    return {"setup": why(False), "update": why(True), "repair": why(True)}


def active_setup_job(store) -> dict | None:
    return jobs.active_of_kind(store, SETUP_JOB_KIND)


def detect(store, provider=None, *, run_probe: bool = True, find_pythons: bool = True) -> dict:
    env = musubi_env.from_store(store)
    musubi = musubi_info(env, store)
    py_path = env.python
    python = {"path": str(py_path), "configured": bool(store.get_setting("musubi_python", "")),
              "exists": py_path.is_file(), "candidates": venv_candidates(env.musubi_dir)}
    probe = None
    if python["exists"] and run_probe:
        probe = probe_mod.run(py_path, cwd=str(env.musubi_dir) if env.musubi_dir.is_dir() else None)
        store.set_setting(PROBE_KEY, _verdict(probe))
    elif python["exists"]:
        cached = stored_probe(store)
        probe = cached.get("probe") if cached and cached.get("python_path") == str(py_path) else None
    elif not python["exists"]:
        store.set_setting(PROBE_KEY, None)
    git = git_path()
    git_version = procs.capture([git, "--version"], timeout=10).stdout.strip() if git else None
    if find_pythons:
        found = pythons.find()
        store.set_setting(PYTHONS_KEY, found)
    else:
        found = store.get_setting(PYTHONS_KEY, None)   # None: never looked for yet
    dr = drv.read_driver(provider)
    dr["supported_extras"] = drv.supported_extras(dr["cuda"])
    dr["recommended_extra"] = drv.choose_extra(dr["cuda"], dr["gpus"])
    chosen = setting(store, "musubi_cuda_extra") or "auto"
    build = drv.torch_build(chosen, dr, setting(store, "musubi_torch_source"))

    problems = _problems(musubi, python, probe, dr, git, found, chosen)
    job = active_setup_job(store)
    if job:
        problems.insert(0, _problem("setup_running", "error", "The trainer environment is being set up.",
                                    "Wait for the setup job to finish.", job_id=job["id"]))
    usable = not any(p["severity"] == "error" and p["code"] not in SETUP_ONLY for p in problems)
    best = pythons.best(found or [])
    blocked = blocked_actions(job=job, training=training_running(store), custom_python=python["configured"],
                              is_checkout=musubi["is_checkout"], found=found, best=best)
    setup = {
        "target_dir": musubi["dir"], "repo_url": procs.redact(setting(store, "musubi_repo_url")),
        "extra": build["extra"], "extra_choice": chosen, "build": build,
        "auto_extra": drv.torch_build("auto", dr)["extra"], "python_for_venv": best["path"] if best else None,
        # without git, setup and update download the pinned commit as a zip archive (server/runtime/archive.py)
        "method": "git" if git else "archive",
        "blocked": blocked,
        **{f"can_{action}": why is None for action, why in blocked.items()},
        "target_exists": musubi["exists"] and any(env.musubi_dir.iterdir()) if musubi["exists"] else False,
        "job": job,
    }
    return {"musubi": musubi, "python": python, "probe": probe,
            "torch": (probe or {}).get("torch"), "accelerate": (probe or {}).get("accelerate"),
            "musubi_package": (probe or {}).get("musubi_tuner"),
            "git": {"path": git, "version": git_version}, "system_pythons": found or [], "driver": dr,
            "problems": problems, "usable": usable, "setup": setup, "checked_at": time.time()}


def _verdict(probe: dict) -> dict:
    """What a training start needs to know from the probe, stored under PROBE_KEY."""
    blocking = [p for p in _probe_problems(probe, None) if p["severity"] == "error"]
    return {"python_path": probe.get("python_path"), "at": probe.get("at"), "probe": probe,
            "blocking": [{"code": p["code"], "message": p["message"], "details": p.get("details") or {}}
                         for p in blocking]}


def _probe_problems(probe: dict | None, dr: dict | None, chosen: str | None = None) -> list[dict]:
    out = []
    if probe is None:
        return out
    if not probe.get("ok"):
        out.append(_problem("python_broken", "error", f"The musubi-tuner Python did not run: {probe.get('error')}",
                            "Click Repair to rebuild the environment, or choose a working interpreter.",
                            "musubi_python", details={"error": str(probe.get("error"))}))
        return out
    if not pythons.supported(probe.get("python")):
        out.append(_problem("python_unsupported", "error",
                            f"musubi-tuner needs Python 3.10-3.12; this environment has {probe.get('python')}.",
                            "Click Repair (it builds a new environment with a supported Python) or choose another "
                            "interpreter.", "musubi_python", details={"version": str(probe.get("python"))}))
    torch = probe.get("torch")
    no_driver = dr is not None and not dr.get("available")
    if not torch:
        out.append(_problem("torch_missing", "error",
                            f"PyTorch is not installed in this environment ({probe.get('torch_error')}).",
                            "Click Repair to install it with the right CUDA build.", "musubi_python",
                            details={"error": str(probe.get("torch_error"))}))
    elif not torch.get("cuda"):
        action, action_code = "Click Repair: it installs the CUDA build that matches your driver.", None
        if chosen == "cpu":
            action_code = "torch_cpu_only_chosen"
            action = ("You chose the CPU-only build. Training needs an NVIDIA GPU and a CUDA build: set the torch "
                      "build to Automatic or a cuXXX build and click Repair.")
        elif no_driver:
            action_code = "torch_cpu_only_no_gpu"
            action = ("Training needs an NVIDIA GPU. Once one is installed with its driver, click Repair: it "
                      "installs the CUDA build that matches the driver.")
        out.append(_problem("torch_cpu_only", "error",
                            f"PyTorch {torch.get('version')} is the CPU-only build: it cannot train on the GPU.",
                            action, "musubi_python", details={"version": str(torch.get("version"))},
                            action_code=action_code))
    elif not torch.get("cuda_available"):
        why = torch.get("cuda_error") or "torch.cuda.is_available() is False"
        action, action_code = "Update the NVIDIA driver, or click Repair to install a build that matches it.", None
        details = {"error": why, "torch_cuda": torch["cuda"]}
        if dr and dr.get("cuda") and drv._parse_cuda(dr["cuda"]) < drv._parse_cuda(torch["cuda"]):
            action_code = "cuda_unavailable_driver_older" if dr.get("recommended_extra") else "driver_too_old"
            details.update(driver_cuda=dr["cuda"], extra=dr.get("recommended_extra") or "",
                           driver=dr.get("driver") or "", cuda=dr["cuda"])
            action = (f"This PyTorch is built for CUDA {torch['cuda']} but the driver supports up to CUDA "
                      f"{dr['cuda']}. Update the NVIDIA driver, or set the torch build to "
                      f"{dr.get('recommended_extra') or 'an older one'} and click Repair.")
        elif no_driver:
            action_code = "cuda_unavailable_no_driver"
            action = "No NVIDIA GPU or driver was found. Install the NVIDIA driver (training needs an NVIDIA GPU)."
        out.append(_problem("cuda_unavailable", "error", f"PyTorch cannot use the GPU ({why}).", action,
                            "musubi_python", details=details, action_code=action_code))
    else:
        cuda = drv._parse_cuda(torch.get("cuda"))
        names = [d.get("name", "") for d in torch.get("devices", [])]
        if cuda and cuda < (12, 8) and any(drv.BLACKWELL.search(n or "") for n in names):
            out.append(_problem("blackwell_needs_cu128", "error",
                                f"RTX 50-series GPUs need a PyTorch built for CUDA 12.8 or newer (this one: "
                                f"{torch.get('cuda')}).", "Set the torch build to cu128 and click Repair.",
                                "musubi_python", details={"cuda": str(torch.get("cuda"))}))
    if not probe.get("accelerate"):
        out.append(_problem("accelerate_missing", "error", "accelerate is not installed: training is started with "
                            "`accelerate launch`.", "Click Repair, or run `python -m pip install accelerate` in "
                            "that environment.", "musubi_python"))
    if not probe.get("musubi_tuner"):
        out.append(_problem("musubi_not_installed", "error",
                            "musubi-tuner is not installed in this environment (`pip install -e .` was not run), so "
                            "its scripts cannot import their own modules.",
                            "Click Repair, or run `python -m pip install -e .` in the musubi-tuner folder.",
                            "musubi_python"))
    return out


def _problems(musubi, python, probe, dr, git, found, chosen) -> list[dict]:
    out = []
    if not musubi["is_checkout"]:
        out.append(_problem("musubi_missing", "error",
                            f"musubi-tuner was not found at {musubi['dir']} (no src/musubi_tuner inside).",
                            "Click Set up to download and install it, or, if you already have musubi-tuner, "
                            "enter its folder and its Python below.", "musubi_dir", details={"path": musubi["dir"]}))
    elif musubi["matches_pinned"] is False:
        have = musubi["describe"] or musubi["version"] or "unknown"
        out.append(_problem("musubi_version_differs", "warning",
                            f"musubi-tuner here is {have}; this app is checked against "
                            f"v{musubi['pinned']['version']} ({musubi['pinned']['commit'][:10]}).",
                            "Click Update to move to the checked version (your own changes are kept safe).",
                            "musubi_dir", details={"have": have, "version": musubi["pinned"]["version"],
                                                   "commit": musubi["pinned"]["commit"][:10]}))
    if not python["exists"]:
        action, action_code = "Click Repair to create it.", None
        if not musubi["is_checkout"]:
            action_code, action = "python_missing_no_checkout", ("Set up musubi-tuner, or enter the python of "
                                                                 "your own environment.")
        details = {"path": python["path"]}
        if python["candidates"]:
            action_code = "python_missing_candidate"
            action = f"An environment was found at {python['candidates'][0]}: use it, or click Repair."
            details["candidate"] = python["candidates"][0]
        out.append(_problem("python_missing", "error",
                            f"The musubi-tuner Python {python['path']} does not exist.", action, "musubi_python",
                            details=details, action_code=action_code, candidates=python["candidates"]))
    out.extend(_probe_problems(probe, dr, chosen))
    if not dr["available"]:
        # An error for training, not for setup: the trainer can be installed now (driver.torch_build says which
        # PyTorch and what that means) and trains once a GPU is in.
        out.append(_problem("no_gpu", "error", "No NVIDIA GPU was found (or its driver is not installed).",
                            "Training needs an NVIDIA GPU: install the latest NVIDIA driver from nvidia.com (or "
                            "nvidia.cn). You can still set up the trainer now; the torch build below says what "
                            "it will install.", None))
    elif dr["recommended_extra"] is None:
        out.append(_problem("driver_too_old", "error",
                            f"The NVIDIA driver {dr['driver']} supports CUDA {dr['cuda'] or 'unknown'}; PyTorch for "
                            "musubi-tuner needs CUDA 12.4 or newer.",
                            "Update the NVIDIA driver (version 570 or newer) and check again.", None,
                            details={"driver": str(dr["driver"]), "cuda": dr["cuda"] or "?"}))
    if not git:
        out.append(_problem("git_missing", "info",
                            "Git is not installed: Set up and Update will download musubi-tuner as a zip archive "
                            "instead.",
                            "Nothing to do. Installing Git for Windows from git-scm.com (default options) is still "
                            "recommended: updates then also detect your own changes to musubi-tuner's files.", None))
    if found is not None and not pythons.best(found) and (not musubi["is_checkout"] or not python["exists"]):
        out.append(_problem("no_system_python", "warning",
                            "No Python 3.10-3.12 (64-bit, with venv) was found to build the environment with.",
                            "Install Python 3.12 from python.org (tick “Add python.exe to PATH”), then check again.",
                            None))
    return out
