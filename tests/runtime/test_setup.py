"""Setup / update / repair against a LOCAL git repository as the remote and a folder of tiny wheels
(pip --no-index --find-links): the real git and pip commands run, nothing touches the network."""

from __future__ import annotations

import pytest

from server.runtime import detect, setup
from tests.runtime.fakes import git, make_checkout, make_wheels


@pytest.fixture
def remote(tmp_path, monkeypatch):
    repo = make_checkout(tmp_path / "remote" / "musubi-tuner", git_repo=True)
    head = git("rev-parse", "HEAD", cwd=repo)
    monkeypatch.setattr(detect, "pinned", lambda: {"version": "0.3.4", "commit": head})
    return repo


@pytest.fixture
def configured(api, tmp_path, remote, monkeypatch):
    monkeypatch.setenv("LORA_WORKBENCH_NVIDIA_DRIVER", "572.16/12.8")
    monkeypatch.delenv("FAKE_TORCH_CUDA", raising=False)
    wheels = make_wheels(tmp_path / "wheels")
    target = tmp_path / "app" / "musubi-tuner"
    r = api.patch("/api/settings", json={"musubi_dir": str(target), "musubi_repo_url": str(remote),
                                         "musubi_find_links": str(wheels)})
    assert r.status_code == 200, r.get_json()
    return target


def run(api, svc, body, timeout=240):
    r = api.post("/api/runtime/setup", json=body)
    assert r.status_code == 202, r.get_json()
    job = svc.jobs.wait(r.get_json()["job"]["id"], timeout=timeout)
    return job


def test_setup_update_repair(api, svc, configured, remote, tmp_path, monkeypatch):
    target = configured
    events = []
    publish = svc.bus.publish

    def recording_publish(topic, type, data=None):
        events.append((topic, type, data))
        return publish(topic, type, data)

    svc.bus.publish = recording_publish
    job = run(api, svc, {"action": "setup"})
    assert job["status"] == "done", (job, (svc.layout.logs / f"runtime-{job['id']}.log").read_text())
    assert job["done"] == job["total"] == len(setup.steps_for("setup"))
    assert git("rev-parse", "HEAD", cwd=target) == detect.pinned()["commit"]
    assert (target / ".venv" / setup.MARKER).exists()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".musubi-tuner.download")]
    assert not [p for p in target.iterdir() if p.name.startswith(".venv.new")]
    log = api.get(f"/api/runtime/log/{job['id']}").get_data(as_text=True)
    assert "git clone" in log and "pip install" in log and "torch 2.7.1+cu128" in log
    live = "".join(d["text"] for topic, t, d in events if topic == f"job:{job['id']}" and t == "log")
    assert "Install musubi-tuner" in live
    body = api.post("/api/runtime/detect").get_json()
    assert body["usable"], body["problems"]
    assert body["musubi"]["matches_pinned"] and body["accelerate"]["version"] == "1.6.0"

    # setup again would replace the user's folder: only after confirmation, and it is moved aside
    r = api.post("/api/runtime/setup", json={"action": "setup"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "musubi_dir_exists"

    # update: the pinned commit moves on
    (remote / "NEW.md").write_text("new\n")
    git("add", "-A", cwd=remote)
    git("commit", "-q", "-m", "next", cwd=remote)
    new_head = git("rev-parse", "HEAD", cwd=remote)
    monkeypatch.setattr(detect, "pinned", lambda: {"version": "0.3.5", "commit": new_head})
    assert "musubi_version_differs" in [p["code"] for p in api.get("/api/runtime").get_json()["problems"]]
    old_venv_marker = (target / ".venv" / setup.MARKER).stat().st_mtime_ns
    job = run(api, svc, {"action": "update"})
    assert job["status"] == "done", job
    assert git("rev-parse", "HEAD", cwd=target) == new_head
    assert (target / ".venv" / setup.MARKER).stat().st_mtime_ns != old_venv_marker
    assert not [p for p in target.iterdir() if p.name.startswith(".venv.")]   # the old app-made venv is gone

    # a user's edit to musubi's files is never overwritten without asking
    (target / "pyproject.toml").write_text((target / "pyproject.toml").read_text() + "\n# mine\n")
    r = api.post("/api/runtime/setup", json={"action": "update"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "musubi_dirty"
    assert "# mine" in (target / "pyproject.toml").read_text()

    # repair is refused for a user's own interpreter
    api.patch("/api/settings", json={"musubi_python": str(target / ".venv" / "bin" / "python")})
    r = api.post("/api/runtime/setup", json={"action": "repair"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "custom_python"


def test_confirmed_setup_moves_the_old_folder_aside(api, svc, configured):
    target = configured
    target.mkdir(parents=True)
    (target / "my-notes.txt").write_text("keep me")
    job = run(api, svc, {"action": "setup", "replace": True, "extra": "cu128"})
    assert job["status"] == "done", job
    kept = [p for p in target.parent.iterdir() if p.name.startswith("musubi-tuner.old-")]
    assert len(kept) == 1 and (kept[0] / "my-notes.txt").read_text() == "keep me"
    assert job["result"]["moved_aside"] == str(kept[0])


def test_failed_setup_leaves_nothing_behind(api, svc, configured, tmp_path):
    api.patch("/api/settings", json={"musubi_repo_url": str(tmp_path / "no-such-repo")})
    job = run(api, svc, {"action": "setup"})
    assert job["status"] == "failed" and "git clone failed" in job["error"]
    # a code the UI translates, with what failed (server/jobs/failures.py)
    assert job["error_code"] == "rt_step_failed" and job["error_params"]["what"] == "git clone"
    assert not configured.exists()
    assert not [p for p in configured.parent.iterdir() if p.name.startswith(".musubi-tuner")]
    log = api.get(f"/api/runtime/log/{job['id']}").get_data(as_text=True)
    assert "Failed" in log


def test_refusals(api, svc, configured, monkeypatch):
    assert api.post("/api/runtime/setup", json={"action": "nope"}).status_code == 422
    r = api.post("/api/runtime/setup", json={"action": "repair"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "musubi_missing"
    r = api.post("/api/runtime/setup", json={"action": "update"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_a_checkout"
    assert api.post("/api/runtime/setup", json={"action": "setup", "extra": "cu121"}).status_code == 422
    # without git, setup downloads an archive (tests/runtime/test_archive.py); update still needs a copy
    monkeypatch.setattr(detect, "git_path", lambda: None)
    r = api.post("/api/runtime/setup", json={"action": "update", "extra": "cu128"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_a_checkout"
    assert api.get("/api/runtime/log/../../etc").status_code == 404


def test_cancel_stops_the_running_command(api, svc, configured, monkeypatch):
    import sys
    import time

    slow = [sys.executable, "-c", "import time; print('working', flush=True); time.sleep(60)"]
    real_run = setup.Runner.run

    def run_slow(self, argv, cwd=None, what=""):
        if what == "git clone":
            return real_run(self, slow, what=what)
        return real_run(self, argv, cwd, what)

    monkeypatch.setattr(setup.Runner, "run", run_slow)
    r = api.post("/api/runtime/setup", json={"action": "setup"})
    job_id = r.get_json()["job"]["id"]
    deadline = time.monotonic() + 20
    while "working" not in (svc.layout.logs / f"runtime-{job_id}.log").read_text() if (
            svc.layout.logs / f"runtime-{job_id}.log").exists() else True:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    api.post(f"/api/jobs/{job_id}/cancel")
    job = svc.jobs.wait(job_id, timeout=20)
    assert job["status"] == "cancelled"
    assert not configured.exists()


def test_torch_source_setting_picks_the_index_torch_comes_from(api, svc, configured, tmp_path, monkeypatch):
    """pytorch (default): torch from <torch index>/<cuda build>; pypi: from the plain package index, like
    everything else. Two real PEP 503 indexes with different torch versions tell which one pip used."""
    import os

    from tests.runtime.fakes import make_index, venv_python

    # only the indexes given here: this machine's pip configuration adds wheel folders and indexes of its own
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)

    plain = make_index(tmp_path / "pypi", make_wheels(tmp_path / "w-pypi", torch_version="2.9.1", cuda="12.8"))
    make_index(tmp_path / "pytorch" / "cu128", make_wheels(tmp_path / "w-pt", torch_version="2.7.1+cu128"))
    r = api.patch("/api/settings", json={"musubi_find_links": "", "musubi_pip_index_url": plain,
                                         "musubi_torch_index_url": (tmp_path / "pytorch").as_uri()})
    assert r.status_code == 200, r.get_json()
    assert api.get("/api/settings").get_json()["settings"]["musubi_torch_source"] == "pytorch"
    assert api.patch("/api/settings", json={"musubi_torch_source": "conda"}).status_code == 422

    job = run(api, svc, {"action": "setup", "extra": "cu128"})
    assert job["status"] == "done", (svc.layout.logs / f"runtime-{job['id']}.log").read_text()
    assert job["result"]["torch"]["version"] == "2.7.1+cu128"
    log = api.get(f"/api/runtime/log/{job['id']}").get_data(as_text=True)
    assert f"{(tmp_path / 'pytorch').as_uri()}/cu128" in log
    # the optimizer packages the app offers are installed in the trainer's environment
    py = venv_python(configured / ".venv")
    import subprocess
    res = subprocess.run([str(py), "-c", "import prodigyopt, came_pytorch; print(prodigyopt.Prodigy, came_pytorch.CAME)"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr

    assert api.patch("/api/settings", json={"musubi_torch_source": "pypi"}).status_code == 200
    job = run(api, svc, {"action": "repair", "extra": "cu128"})
    assert job["status"] == "done", (svc.layout.logs / f"runtime-{job['id']}.log").read_text()
    assert job["result"]["torch"]["version"] == "2.9.1"
    log = api.get(f"/api/runtime/log/{job['id']}").get_data(as_text=True)
    assert "/cu128" not in log.split("pip install torch")[1].split("\n")[0]
