"""Setup / update WITHOUT git: the pinned commit comes as a zip archive from a local HTTP server on 127.0.0.1
(built from the fake checkout of tests/runtime/fakes.py), git is hidden through the LORA_WORKBENCH_GIT seam of
detect.git_path(), pip installs from local wheels. Plus the archive's safety rules (zip slip)."""

from __future__ import annotations

import io
import stat
import time
import zipfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from server.runtime import archive, detect, setup
from tests.local_http import LocalHTTPServer
from tests.runtime.fakes import make_checkout, make_wheels

PIN = "a" * 40
PIN2 = "b" * 40


def zip_of(folder: Path, top: str) -> bytes:
    """The folder as GitHub serves it: every file under one top-level folder `top/`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{top}/", "")
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, f"{top}/{p.relative_to(folder).as_posix()}")
    return buf.getvalue()


class Server(LocalHTTPServer):
    """Serves {path: bytes}; `slow` paths trickle out 1 KB every 50 ms."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.slow: set[str] = set()
        self.hits: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.hits.append(self.path)
                data = outer.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    if self.path in outer.slow:
                        for i in range(0, len(data), 1024):
                            self.wfile.write(data[i:i + 1024])
                            self.wfile.flush()
                            time.sleep(0.05)
                    else:
                        self.wfile.write(data)
                except OSError:
                    pass

        super().__init__(Handler)
        self.base = self.root
        self.start()


@pytest.fixture
def server(tmp_path):
    s = Server()
    s.files[f"/archive/{PIN}.zip"] = zip_of(make_checkout(tmp_path / "src1" / "musubi-tuner"), f"musubi-tuner-{PIN}")
    s.files[f"/archive/{PIN2}.zip"] = zip_of(make_checkout(tmp_path / "src2" / "musubi-tuner", version="0.3.5"),
                                             f"musubi-tuner-{PIN2}")
    yield s
    s.close()


@pytest.fixture
def no_git(api, tmp_path, server, monkeypatch):
    monkeypatch.setenv("LORA_WORKBENCH_GIT", "none")           # the seam: as if git were not on PATH
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LORA_WORKBENCH_NVIDIA_DRIVER", "572.16/12.8")
    monkeypatch.delenv("FAKE_TORCH_CUDA", raising=False)
    monkeypatch.setattr(detect, "pinned", lambda: {"version": "0.3.4", "commit": PIN})
    target = tmp_path / "app" / "musubi-tuner"
    r = api.patch("/api/settings", json={"musubi_dir": str(target),
                                         "musubi_archive_url": server.base + "/archive/{commit}.zip",
                                         "musubi_find_links": str(make_wheels(tmp_path / "wheels"))})
    assert r.status_code == 200, r.get_json()
    # nothing may call git on this path
    real_run = setup.Runner.run

    def run_no_git(self, argv, cwd=None, what=""):
        assert "git" not in Path(str(argv[0])).name.lower(), argv
        return real_run(self, argv, cwd, what)

    monkeypatch.setattr(setup.Runner, "run", run_no_git)
    return target


def run(api, svc, body, timeout=240):
    r = api.post("/api/runtime/setup", json=body)
    assert r.status_code == 202, r.get_json()
    return svc.jobs.wait(r.get_json()["job"]["id"], timeout=timeout)


def log_of(svc, job):
    return (svc.layout.logs / f"runtime-{job['id']}.log").read_text(encoding="utf-8")


def test_git_seam_hides_git(monkeypatch, tmp_path):
    monkeypatch.setenv("LORA_WORKBENCH_GIT", "none")
    assert detect.git_path() is None
    fake = tmp_path / "mygit"
    fake.write_text("")
    monkeypatch.setenv("LORA_WORKBENCH_GIT", str(fake))
    assert detect.git_path() == str(fake)


def test_setup_and_update_without_git(api, svc, no_git, server, monkeypatch):
    target = no_git
    body = api.get("/api/runtime").get_json()
    assert body["git"]["path"] is None and body["setup"]["method"] == "archive"
    problem = next(p for p in body["problems"] if p["code"] == "git_missing")
    assert problem["severity"] == "info" and "zip archive" in problem["message"]

    job = run(api, svc, {"action": "setup"})
    log = log_of(svc, job)
    assert job["status"] == "done", (job, log)
    assert job["done"] == job["total"] == len(setup.steps_for("setup", "archive"))
    assert server.hits == [f"/archive/{PIN}.zip"]
    assert "Downloaded" in log and "(100%)" in log and "files unpacked" in log and "git clone" not in log
    # the top-level folder was stripped; the commit is kept in the marker (there is no .git)
    assert (target / "src" / "musubi_tuner" / "__init__.py").is_file() and not (target / ".git").exists()
    assert archive.read_marker(target)["commit"] == PIN
    assert (target / ".venv" / setup.MARKER).exists()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".musubi-tuner.download")]
    body = api.post("/api/runtime/detect").get_json()
    assert body["usable"], body["problems"]
    assert body["musubi"]["version"] == "0.3.4" and body["musubi"]["commit"] == PIN
    assert body["musubi"]["matches_pinned"] is True and body["musubi"]["source"] == "archive"
    assert body["setup"]["can_update"]

    # update: the pin moves on; the new archive is unpacked, the old copy kept aside, the environment rebuilt
    monkeypatch.setattr(detect, "pinned", lambda: {"version": "0.3.5", "commit": PIN2})
    assert "musubi_version_differs" in [p["code"] for p in api.get("/api/runtime").get_json()["problems"]]
    (target / "my-notes.txt").write_text("keep me")
    job = run(api, svc, {"action": "update"})
    assert job["status"] == "done", (job, log_of(svc, job))
    assert archive.read_marker(target)["commit"] == PIN2
    assert detect.read_version(target) == "0.3.5"
    kept = [p for p in target.parent.iterdir() if p.name.startswith("musubi-tuner.old-")]
    assert len(kept) == 1 and (kept[0] / "my-notes.txt").read_text() == "keep me"
    assert not (kept[0] / ".venv").exists()            # carried over, then replaced by the new one
    assert not [p for p in target.iterdir() if p.name.startswith(".venv.")]
    body = api.post("/api/runtime/detect").get_json()
    assert body["usable"], body["problems"]
    assert body["musubi"]["matches_pinned"] is True and body["musubi"]["version"] == "0.3.5"


def test_failed_download_leaves_nothing_behind(api, svc, no_git):
    api.patch("/api/settings", json={"musubi_archive_url": "http://127.0.0.1:1/nothing/{commit}.zip"})
    job = run(api, svc, {"action": "setup"})
    assert job["status"] == "failed" and "Could not download" in job["error"]
    assert job["error_code"] == "rt_download_failed" and "Could not download" in job["error_params"]["error"]
    assert not no_git.exists()
    assert not [p for p in no_git.parent.iterdir() if p.name.startswith(".musubi-tuner")]
    assert api.patch("/api/settings", json={"musubi_archive_url": "ftp://x/y.zip"}).status_code == 422


def test_http_error_and_not_musubi(api, svc, no_git, server, tmp_path):
    api.patch("/api/settings", json={"musubi_archive_url": server.base + "/missing/{commit}.zip"})
    job = run(api, svc, {"action": "setup"})
    assert job["status"] == "failed" and "HTTP 404" in job["error"]
    other = tmp_path / "other"
    other.mkdir()
    (other / "README.md").write_text("not musubi")
    server.files["/other.zip"] = zip_of(other, "something")
    api.patch("/api/settings", json={"musubi_archive_url": server.base + "/other.zip"})
    job = run(api, svc, {"action": "setup"})
    assert job["status"] == "failed" and "does not contain musubi-tuner" in job["error"]
    assert (job["error_code"], job["error_params"]) == ("rt_archive_not_musubi", {})
    assert not no_git.exists()
    assert not [p for p in no_git.parent.iterdir() if p.name.startswith(".musubi-tuner")]


def test_cancel_during_download(api, svc, no_git, server):
    path = f"/archive/{PIN}.zip"
    server.files[path] = server.files[path] + b"\0" * 200_000       # ~4 s at the trickle rate
    server.slow.add(path)
    r = api.post("/api/runtime/setup", json={"action": "setup"})
    job_id = r.get_json()["job"]["id"]
    logf = svc.layout.logs / f"runtime-{job_id}.log"
    deadline = time.monotonic() + 20
    while not (logf.exists() and "Downloaded" in logf.read_text(encoding="utf-8")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    api.post(f"/api/jobs/{job_id}/cancel")
    job = svc.jobs.wait(job_id, timeout=20)
    assert job["status"] == "cancelled"
    assert not no_git.exists()
    assert not [p for p in no_git.parent.iterdir() if p.name.startswith(".musubi-tuner")]


# --- the archive's safety rules --------------------------------------------------------------------

def make_zip(path: Path, members: dict[str, bytes], links=()) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
        for name, to in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, to)
    return path


@pytest.mark.parametrize("evil", ["top/../../evil.txt", "../evil.txt", "/tmp/evil.txt", "C:/evil.txt",
                                  "top\\..\\..\\evil.txt", "C:evil.txt"])
def test_zip_slip_is_refused_before_anything_is_written(tmp_path, evil):
    z = make_zip(tmp_path / "a.zip", {"top/ok.txt": b"ok", evil: b"owned"})
    target = tmp_path / "out" / "target"
    with pytest.raises(archive.ArchiveError, match="unsafe path"):
        archive.extract(z, target)
    assert not target.exists()
    assert not list(tmp_path.rglob("evil.txt"))


def test_links_are_refused(tmp_path):
    z = make_zip(tmp_path / "a.zip", {"top/ok.txt": b"ok"}, links=[("top/link", "/etc/passwd")])
    with pytest.raises(archive.ArchiveError, match="link"):
        archive.extract(z, tmp_path / "target")
    assert not (tmp_path / "target").exists()


def test_single_top_folder_is_stripped(tmp_path):
    z = make_zip(tmp_path / "a.zip", {"musubi-tuner-abc/": b"", "musubi-tuner-abc/pyproject.toml": b"x",
                                      "musubi-tuner-abc/src/musubi_tuner/__init__.py": b""})
    assert archive.extract(z, tmp_path / "t") == 2
    assert (tmp_path / "t" / "pyproject.toml").read_bytes() == b"x"
    assert (tmp_path / "t" / "src" / "musubi_tuner" / "__init__.py").is_file()
    # several top-level entries: unpacked as they are
    z = make_zip(tmp_path / "b.zip", {"a/x.txt": b"1", "b.txt": b"2"})
    archive.extract(z, tmp_path / "u")
    assert (tmp_path / "u" / "a" / "x.txt").is_file() and (tmp_path / "u" / "b.txt").is_file()


def test_not_a_zip(tmp_path):
    bad = tmp_path / "x.zip"
    bad.write_bytes(b"<html>rate limited</html>")
    with pytest.raises(archive.ArchiveError, match="not a zip"):
        archive.extract(bad, tmp_path / "t")


def test_url_template():
    assert archive.archive_url("https://h/archive/{commit}.zip", "abc") == "https://h/archive/abc.zip"
    assert archive.archive_url("https://h/archive/<commit>.zip", "abc") == "https://h/archive/abc.zip"
