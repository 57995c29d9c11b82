"""The real musubi-tuner, installed the way a user installs it: by the app's own setup job, through its HTTP API.

The source is `../shared/musubi/musubi-tuner` (musubi-tuner at the pinned commit; no machine here reaches
GitHub), zipped like GitHub's archive of that commit and given to the setup job through the archive URL
setting (`file://`), with git hidden (LORA_WORKBENCH_GIT=none) so the job takes its archive path. torch comes
from the plain package index (setting `musubi_torch_source` = pypi): the PyTorch index is unreachable here,
and pip's own configuration (on these machines: a cap at torch 2.14.1 with the wheels on disk) applies.

The result is built once into `~/.cache/lora-workbench-tests/trainer-<key>/musubi-tuner` (outside the
repository; LORA_WORKBENCH_TEST_CACHE moves it) and reused while the key's inputs are unchanged: the pinned
commit, musubi's pyproject (its requirements), the optimizer packages, this Python's version and
HARNESS_VERSION. A clean machine builds it (4-7 min, mostly torch). A file lock keeps two test processes
from building the same folder at once; a folder without its `ready.json` is a broken build and is rebuilt.

Run `python -m tests.realtrainer.trainer_env` to build (or find) it outside pytest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MUSUBI_SRC = (ROOT.parent / "shared" / "musubi" / "musubi-tuner").resolve()
# bump when what this module builds changes in a way the other inputs do not show
HARNESS_VERSION = "1"
BUILD_TIMEOUT_S = 45 * 60


def musubi_source() -> Path:
    """The musubi-tuner copy to install; LORA_WORKBENCH_MUSUBI_SRC names another (CI checks it out elsewhere)."""
    return Path(os.environ.get("LORA_WORKBENCH_MUSUBI_SRC") or MUSUBI_SRC)


def cache_root() -> Path:
    return Path(os.environ.get("LORA_WORKBENCH_TEST_CACHE") or Path.home() / ".cache" / "lora-workbench-tests")


def build_key() -> str:
    from server.runtime import detect, setup

    src = musubi_source()
    parts = {
        "commit": detect.pinned()["commit"],
        "pyproject": hashlib.sha256((src / "pyproject.toml").read_bytes()).hexdigest(),
        "optimizers": list(setup.OPTIMIZER_PACKAGES),
        "python": "%d.%d" % sys.version_info[:2],
        "platform": sys.platform,
        "harness": HARNESS_VERSION,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        if sys.platform == "win32":
            import msvcrt

            while True:
                try:
                    msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    continue
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if sys.platform != "win32":
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _zip_like_github(src: Path, dest: Path, commit: str) -> None:
    """GitHub's archive of a commit: every file under one `musubi-tuner-<commit>/` folder."""
    top = f"musubi-tuner-{commit}"
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(src)
            if any(p in (".git", ".venv", "__pycache__") for p in rel.parts) or not path.is_file():
                continue
            z.write(path, f"{top}/{rel.as_posix()}")


def ensure(log=print) -> dict:
    """The installed trainer: {"musubi_dir", "python", "key", "built_s", ...}; builds it when missing."""
    root = cache_root()
    key = build_key()
    folder = root / f"trainer-{key}"
    ready = folder / "ready.json"
    with _locked(root / f"trainer-{key}.lock"):
        if ready.is_file():
            info = json.loads(ready.read_text(encoding="utf-8"))
            if Path(info["python"]).is_file():
                return info
        if folder.exists():
            log(f"removing the unfinished trainer build {folder}")
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        started = time.monotonic()
        info = _build(folder, log)
        info.update(key=key, built_s=round(time.monotonic() - started, 1))
        ready.write_text(json.dumps(info, indent=1), encoding="utf-8")
        return info


def _build(folder: Path, log) -> dict:
    from server import create_app
    from server.runtime import detect
    from tests.conftest import TOKEN, Api

    commit = detect.pinned()["commit"]
    work = Path(tempfile.mkdtemp(prefix="lw-trainer-build-"))
    saved_git = os.environ.get(detect.GIT_ENV)
    os.environ[detect.GIT_ENV] = "none"     # the setup job then takes the archive (no-git) path
    app = None
    try:
        archive_path = work / f"{commit}.zip"
        log(f"zipping {musubi_source()} -> {archive_path}")
        _zip_like_github(musubi_source(), archive_path, commit)
        (work / "data").mkdir()
        app = create_app(data_dir=work / "data", token=TOKEN, testing=True, gpu_provider="none")
        api = Api(app.test_client())
        r = api.patch("/api/settings", json={
            "musubi_dir": str(folder / "musubi-tuner"),
            "musubi_archive_url": archive_path.as_uri(),
            "musubi_torch_source": "pypi"})
        assert r.status_code == 200, r.get_json()
        # no NVIDIA driver here: the build is named (cu128 asks for torch>=2.7.1, which PyPI's torch meets)
        r = api.post("/api/runtime/setup", json={"action": "setup", "extra": "cu128"})
        assert r.status_code == 202, r.get_json()
        job_id = r.get_json()["job"]["id"]
        log(f"setup job {job_id}: log in {work / 'data' / 'logs'}")
        job = app.extensions["workbench"].jobs.wait(job_id, timeout=BUILD_TIMEOUT_S)
        text = api.get(f"/api/runtime/log/{job_id}").get_data(as_text=True)
        (folder / "setup.log").write_text(text, encoding="utf-8")
        if job["status"] != "done":
            raise RuntimeError(f"the app's setup job ended {job['status']}: {job.get('error')}\n{text[-6000:]}")
        detected = api.post("/api/runtime/detect").get_json()
        result = job["result"]
        return {"musubi_dir": result["musubi_dir"], "python": result["python"], "torch": result["torch"],
                "commit": result["commit"], "detect_problems": [p["code"] for p in detected["problems"]]}
    finally:
        if app is not None:
            app.extensions["workbench"].shutdown()
        if saved_git is None:
            os.environ.pop(detect.GIT_ENV, None)
        else:
            os.environ[detect.GIT_ENV] = saved_git
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(json.dumps(ensure(), indent=1))
