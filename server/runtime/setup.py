"""One-click setup, update and repair of musubi-tuner's environment, as a job with a live log.

- setup:  git clone <musubi_repo_url> into a temp folder beside the target, checkout the pinned commit,
          move it into place (an existing folder is only ever moved aside, to `<name>.old-<time>`, and
          only when the user confirmed), then build the environment (below).
- update: in the existing checkout: refuse if tracked files were changed (unless confirmed: then the
          whole checkout is moved aside and a fresh one set up), `git fetch` + `git checkout --detach
          <pinned commit>`, then build the environment.
- without git (setup and update): download the pinned commit as a zip archive (setting
          `musubi_archive_url`, byte progress in the log, cancellable) into a temp folder beside the target,
          unpack it there (server/runtime/archive.py: no member may leave the folder; GitHub's single top-level
          folder is stripped), write archive.MARKER with the commit (no .git to ask), then move it into place
          as setup does. An update moves the old copy aside to `<name>.old-<time>` and carries its `.venv`
          over (it is replaced by the new one below like after a git update). Also used to update an
          unpacked copy when git is installed later, since it has no .git to fetch into.
- repair: build the environment again.
Building the environment: `python -m venv` into `<musubi>/.venv.new-<rand>` with a system Python
3.10-3.12, `pip install torch torchvision` from the PyTorch index for the chosen build (cuXXX, or cpu; which
one "auto" means, also without an NVIDIA GPU, is driver.torch_build) (pip does
not read the uv-only indexes in musubi's pyproject) or, with setting `musubi_torch_source` = pypi, from
the plain package index, `pip install -e <musubi>[cuXXX]`, the optimizer packages, accelerate if it
is still missing, a probe; only then the new venv replaces `.venv`. The old one is deleted if this app
made it (marker file), else kept as `.venv.old-<time>`.

Each command is an argv list run through procs.stream (cancel ends its process tree). Output goes
to the job topic as `log` events ({"text"}) and to <data>/logs/runtime-<job id>.log. URLs are
redacted before logging (a mirror URL may hold credentials).
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .. import fileio
from ..errors import ApiError, Conflict, ValidationError
from ..jobs import JobCancelled, JobError, messages
from ..training import musubi_env
from . import archive, detect, procs, pythons
from . import probe as probe_mod

ACTIONS = ("setup", "update", "repair")
# Optimizers the app offers beyond torch's own (server/training: prodigyopt.Prodigy, came_pytorch.CAME);
# musubi imports them by dotted path but does not depend on them.
OPTIMIZER_PACKAGES = ("prodigyopt", "came-pytorch")
MARKER = ".lora-workbench-venv"


@dataclass
class Options:
    action: str
    musubi_dir: Path
    repo_url: str
    commit: str
    extra: str
    base_python: str | None
    torch_source: str = "pytorch"  # pytorch: torch_index_url/<extra>; pypi: the same index as everything else
    torch_index_url: str = "https://download.pytorch.org/whl"
    pip_index_url: str = ""
    find_links: str = ""
    replace: bool = False          # the user confirmed moving an existing folder / changed checkout aside
    git: str | None = None
    method: str = "git"            # git | archive (no git, or an unpacked copy to update)
    archive_url: str = ""
    log_path: Path | None = None
    steps: list[str] = field(default_factory=list)

    def pip_source_args(self, torch: bool) -> list[str]:
        if self.find_links:
            return ["--no-index", "--find-links", self.find_links]
        if torch and self.torch_source == "pytorch" and self.torch_index_url:
            return ["--index-url", f"{self.torch_index_url.rstrip('/')}/{self.extra}"]
        return ["--index-url", self.pip_index_url] if self.pip_index_url else []


def plan(store, provider, body: dict) -> Options:
    """Check that `action` can run now and build its options; ApiError otherwise."""
    action = body.get("action")
    if action not in ACTIONS:
        raise ValidationError("action must be setup, update or repair.", field="action")
    if detect.active_setup_job(store):
        raise Conflict("A setup job is already running.", code="setup_running")
    if detect.training_running(store):
        raise Conflict("A training task is running with this environment; stop it first.", code="training_running")
    env = musubi_env.from_store(store)
    d = env.musubi_dir
    git = detect.git_path()
    pin = detect.pinned()
    from . import driver as drv

    choice = body.get("extra") or detect.setting(store, "musubi_cuda_extra") or "auto"
    if choice not in drv.CHOICES:
        raise ValidationError("extra must be auto, cu124, cu128, cu130 or cpu.", field="extra")
    # the build the Settings page states (driver.torch_build): without a usable driver, auto installs the
    # build for a GPU added later
    extra = drv.torch_build(choice, drv.read_driver(provider))["extra"]
    if body.get("base_python") and (not isinstance(body["base_python"], str) or "\x00" in body["base_python"]):
        raise ValidationError("base_python must be the path of a Python interpreter.", field="base_python")
    found = pythons.find(extra=[body["base_python"]] if body.get("base_python") else ())
    base = None
    if body.get("base_python"):
        base = next((p for p in found if p["path"] == body["base_python"] and p["supported"] and p["venv"]), None)
        if base is None:
            raise ValidationError(f"{body['base_python']} is not a 64-bit Python 3.10-3.12 with venv.",
                                  field="base_python")
    else:
        base = pythons.best(found)
    custom_python = bool(store.get_setting("musubi_python", ""))
    if custom_python:
        raise Conflict("You use your own Python for musubi-tuner; setup, update and repair only manage the "
                       "environment in <musubi-tuner>/.venv. Clear the Python field to let the app manage it.",
                       code="custom_python")
    if base is None:
        raise ApiError("No Python 3.10-3.12 (64-bit, with venv) was found. Install Python 3.12 from python.org "
                       "and tick “Add python.exe to PATH”.", code="no_system_python", status=422)
    replace = bool(body.get("replace"))
    method = "git" if git else "archive"
    if action == "setup" and d.exists() and any(d.iterdir()) and not replace:
        raise Conflict(f"{d} already exists and is not empty. Confirm to move it aside (to {d.name}.old-…) and "
                       "set up a fresh copy, or use Update / Repair.", code="musubi_dir_exists",
                       details={"path": str(d)})
    if action == "update":
        if not (d / "src" / "musubi_tuner").is_dir():
            raise Conflict(f"{d} is not a musubi-tuner copy, so it cannot be updated. Set it up again instead.",
                           code="not_a_checkout")
        if not (d / ".git").exists():
            method = "archive"
        info = detect.git_info(d) if method == "git" else {"dirty": None}
        if info["dirty"] and not replace:
            raise Conflict("musubi-tuner has local changes to its files. Confirm to move this copy aside (nothing "
                           "is deleted) and set up a fresh one.", code="musubi_dirty", details={"path": str(d)})
    if action == "repair" and not (d / "src" / "musubi_tuner").is_dir():
        raise Conflict(f"There is no musubi-tuner checkout at {d}; use Set up.", code="musubi_missing")
    return Options(action=action, musubi_dir=d, repo_url=detect.setting(store, "musubi_repo_url"), commit=pin["commit"],
                   extra=extra, base_python=base["path"], git=git, replace=replace, method=method,
                   archive_url=archive.archive_url(detect.setting(store, "musubi_archive_url"), pin["commit"]),
                   torch_source=detect.setting(store, "musubi_torch_source"),
                   torch_index_url=detect.setting(store, "musubi_torch_index_url"),
                   pip_index_url=detect.setting(store, "musubi_pip_index_url"),
                   find_links=detect.setting(store, "musubi_find_links"))


class Runner:
    """Runs one job: steps, log, progress."""

    def __init__(self, ctx, opts: Options, log_path: Path):
        self.ctx = ctx
        self.opts = opts
        self.log_path = log_path
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "a", encoding="utf-8", newline="")
        self.step = 0
        self.cleanup: list[Path] = []

    def close(self):
        self._log.close()

    def write(self, text: str) -> None:
        text = procs.redact(text)
        self._log.write(text)
        self._log.flush()
        self.ctx.event("log", {"text": text})

    def begin(self, step: str) -> None:
        """Start the step `step` (a message code of server/jobs/messages.py, which the UI translates)."""
        self.step += 1
        self.ctx.check()
        params = {"build": self.opts.extra} if step == "rt_torch" else {}
        self.ctx.progress(self.step - 1, len(self.opts.steps), force=True, message_code=step, params=params)
        self.write(f"\n\x1b[1m==> [{self.step}/{len(self.opts.steps)}] {messages.text(step, params)}\x1b[0m\n")

    def run(self, argv: list[str], cwd=None, what: str = "") -> None:
        self.write("$ " + " ".join(_quote(a) for a in argv) + "\n")
        try:
            code = procs.stream(argv, self.write, cancelled=lambda: self.ctx.cancelled, cwd=cwd)
        except procs.Cancelled:
            raise JobCancelled() from None
        except OSError as exc:
            raise JobError("rt_start_failed", {"what": what or argv[0], "error": exc}) from None
        if code != 0:
            raise JobError("rt_step_failed", {"what": what or Path(argv[0]).name, "exit_code": code})


def _quote(a: str) -> str:
    a = str(a)
    return f'"{a}"' if (" " in a or not a) else a


def steps_for(action: str, method: str = "git") -> list[str]:
    """The steps of `action`, as message codes (server/jobs/messages.py)."""
    venv = ["rt_venv", "rt_torch", "rt_musubi", "rt_probe", "rt_swap"]
    if action in ("setup", "update") and method == "archive":
        return ["rt_download", "rt_unpack", "rt_move", *venv]
    if action == "setup":
        return ["rt_download", "rt_checkout", "rt_move", *venv]
    if action == "update":
        return ["rt_fetch", "rt_checkout", *venv]
    return venv


def run_job(ctx, opts: Options, layout, store) -> dict:
    opts.steps = steps_for(opts.action, opts.method)
    log_path = layout.logs / f"runtime-{ctx.id}.log"
    r = Runner(ctx, opts, log_path)
    r.write(f"{opts.action} musubi-tuner {opts.commit[:10]} in {opts.musubi_dir} ({opts.extra}, "
            f"Python {opts.base_python})\n")
    if opts.method == "archive" and opts.action != "repair":
        r.write("Git is not available for this copy: downloading musubi-tuner as a zip archive.\n")
    try:
        result = _run(r, opts)
        r.write("\n\x1b[32mDone.\x1b[0m\n")
        ctx.progress(len(opts.steps), len(opts.steps), force=True, message_code="done")
        return {**result, "log": str(log_path)}
    except JobCancelled:
        r.write("\n\x1b[33mCancelled.\x1b[0m\n")
        raise
    except Exception as exc:
        r.write(f"\n\x1b[31mFailed: {exc}\x1b[0m\n")
        raise
    finally:
        for path in r.cleanup:
            if path.is_dir():
                r.write(f"Removing temporary {path}\n")
                rmtree(path)
            elif path.exists():
                path.unlink()
        r.close()
        # The next check must not trust a probe of an environment that was just rebuilt.
        store.set_setting(detect.PROBE_KEY, None)


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _swap_in(r: Runner, fresh: Path, d: Path) -> Path | None:
    """Put the fresh copy at `d`. An existing non-empty folder is moved aside, never deleted;
    returns where it went."""
    r.begin("rt_move")
    moved_aside = None
    if d.exists() and any(d.iterdir()):
        moved_aside = d.with_name(f"{d.name}.old-{_stamp()}")
        r.write(f"Moving the existing {d} to {moved_aside}\n")
        fileio.replace(d, moved_aside)
    elif d.exists():
        d.rmdir()
    fileio.replace(fresh, d)
    r.cleanup.remove(fresh)
    return moved_aside


def _run(r: Runner, o: Options) -> dict:
    d = o.musubi_dir
    moved_aside = None
    if o.action in ("setup", "update") and o.method == "archive":
        moved_aside = _fetch_archive(r, o)
    elif o.action == "setup":
        d.parent.mkdir(parents=True, exist_ok=True)
        tmp = d.parent / f".{d.name}.download-{uuid.uuid4().hex[:6]}"
        r.cleanup.append(tmp)
        r.begin("rt_download")
        r.run([o.git, "clone", "--progress", o.repo_url, str(tmp)], what="git clone")
        r.begin("rt_checkout")
        r.run([o.git, "-C", str(tmp), "-c", "advice.detachedHead=false", "checkout", "--detach", o.commit],
              what="git checkout")
        moved_aside = _swap_in(r, tmp, d)
    elif o.action == "update":
        info = detect.git_info(d)
        if info["dirty"]:
            # Confirmed by the user in plan(): keep their copy whole, start from a fresh clone.
            o2 = Options(**{**o.__dict__, "action": "setup", "replace": True})
            o2.steps = steps_for("setup", o2.method)
            r.opts = o2
            return _run(r, o2)
        r.begin("rt_fetch")
        r.run([o.git, "-C", str(d), "fetch", "--progress", o.repo_url], what="git fetch")
        r.begin("rt_checkout")
        r.run([o.git, "-C", str(d), "-c", "advice.detachedHead=false", "checkout", "--detach", o.commit],
              what="git checkout")
    probe = _build_venv(r, o)
    return {"musubi_dir": str(d), "python": str(detect.venv_python(d / ".venv")), "extra": o.extra,
            "moved_aside": str(moved_aside) if moved_aside else None, "torch": probe.get("torch"),
            "commit": o.commit}


def _fetch_archive(r: Runner, o: Options) -> Path | None:
    """Download + unpack the pinned commit beside the target, then swap it in; returns where the old copy went."""
    d = o.musubi_dir
    d.parent.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:6]
    tmp = d.parent / f".{d.name}.download-{tag}"
    zip_path = d.parent / f".{d.name}.download-{tag}.zip"
    r.cleanup += [tmp, zip_path]

    def check():
        r.ctx.check()

    try:
        r.begin("rt_download")
        r.write(f"GET {o.archive_url}\n")
        size = archive.download(o.archive_url, zip_path, r.write, check)
        r.write(f"{size} bytes\n")
        r.begin("rt_unpack")
        files = archive.extract(zip_path, tmp, check)
        r.write(f"{files} files unpacked\n")
        zip_path.unlink()
        r.cleanup.remove(zip_path)
        if not (tmp / "src" / "musubi_tuner").is_dir() or not (tmp / "pyproject.toml").is_file():
            raise JobError("rt_archive_not_musubi")
        archive.write_marker(tmp, o.commit, o.archive_url)
    except archive.ArchiveError as exc:
        raise JobError("rt_download_failed", {"error": exc}) from None
    moved_aside = _swap_in(r, tmp, d)
    old_venv = moved_aside / ".venv" if moved_aside else None
    if o.action == "update" and old_venv and old_venv.is_dir():
        # the environment stays in use (its paths point into this same folder) until the new one works
        r.write(f"Keeping the current environment in use: {old_venv} -> {d / '.venv'}\n")
        fileio.replace(old_venv, d / ".venv")
    return moved_aside


def _build_venv(r: Runner, o: Options) -> dict:
    d = o.musubi_dir
    new = d / f".venv.new-{uuid.uuid4().hex[:6]}"
    r.cleanup.append(new)
    py = detect.venv_python(new)
    r.begin("rt_venv")
    r.run([o.base_python, "-m", "venv", str(new)], what="python -m venv")
    (new / MARKER).write_text("created by LoRA Workbench\n", encoding="utf-8")
    r.begin("rt_torch")
    r.run([str(py), "-m", "pip", "install", "torch", "torchvision", *o.pip_source_args(torch=True)],
          what="pip install torch")
    r.begin("rt_musubi")
    # musubi's cuXXX extras only add torch and torchvision (installed above); the CPU build has no extra
    target = str(d) if o.extra == "cpu" else f"{d}[{o.extra}]"
    r.run([str(py), "-m", "pip", "install", "-e", target, *o.pip_source_args(torch=False)],
          cwd=str(d), what="pip install musubi-tuner")
    r.run([str(py), "-m", "pip", "install", *OPTIMIZER_PACKAGES, *o.pip_source_args(torch=False)],
          what="pip install optimizers")
    r.begin("rt_probe")
    result = probe_mod.run(py)
    if result.get("ok") and not result.get("accelerate"):
        r.write("accelerate is missing; installing it\n")
        r.run([str(py), "-m", "pip", "install", "accelerate", *o.pip_source_args(torch=False)],
              what="pip install accelerate")
        result = probe_mod.run(py)
    if not result.get("ok"):
        raise JobError("rt_env_broken", {"error": result.get("error")})
    torch = result.get("torch") or {}
    r.write(f"Python {result.get('python')}, torch {torch.get('version')} (CUDA {torch.get('cuda')}), "
            f"GPU available: {torch.get('cuda_available')}, accelerate {(result.get('accelerate') or {}).get('version')}\n")
    if not torch:
        raise JobError("rt_torch_missing")
    if not result.get("musubi_tuner"):
        raise JobError("rt_musubi_missing")
    r.begin("rt_swap")
    final = d / ".venv"
    if final.exists():
        if (final / MARKER).exists():
            old = d / f".venv.old-{uuid.uuid4().hex[:6]}"
            fileio.replace(final, old)
            r.write(f"Removing the previous environment this app made ({final})\n")
            r.cleanup.append(old)
        else:
            old = d / f".venv.old-{_stamp()}"
            r.write(f"Keeping the previous environment as {old}\n")
            fileio.replace(final, old)
    fileio.replace(new, final)
    r.cleanup.remove(new)
    return result


def rmtree(path: Path) -> None:
    """Delete a folder this job made; git marks its objects read-only, which Windows refuses to delete."""
    def onerror(func, p, _exc):
        try:
            os.chmod(p, stat.S_IWRITE)
            func(p)
        except OSError:
            pass

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=onerror)
    else:
        shutil.rmtree(path, onerror=onerror)
