"""The folder browser (confined to its roots), downloads instead of "open folder" in server mode."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest



@pytest.fixture
def tree(tmp_path, api):
    """root/ with models, a hidden file, a link inside and links out; outside/ next to it."""
    root, out = tmp_path / "root", tmp_path / "outside"
    (root / "models" / "sub").mkdir(parents=True)
    out.mkdir()
    (root / "models" / "a.safetensors").write_bytes(b"A" * 1000)
    (root / "models" / "notes.txt").write_text("n")
    (root / "models" / ".hidden.pt").write_bytes(b"h")
    (out / "secret.txt").write_text("no")
    os.symlink(out, root / "models" / "link-out")
    os.symlink(out / "secret.txt", root / "models" / "secret-link.txt")
    os.symlink(root / "models" / "a.safetensors", root / "models" / "alias.safetensors")
    assert api.patch("/api/settings", json={"browse_roots": [str(root)]}).status_code == 200
    return root, out


def test_default_roots_are_the_data_folder_and_home(api, data_dir):
    roots = api.get("/api/files/roots").get_json()["roots"]
    assert roots == [str(data_dir.resolve()), str(Path.home().resolve())]


def test_listing_stays_inside_the_roots(api, tree):
    root, out = tree
    body = api.get("/api/files/list", query_string={"path": str(root / "models")}).get_json()
    names = [e["name"] for e in body["entries"]]
    # folders first; links out of the roots are not offered, a link inside is; dotfiles hidden
    assert names == ["sub", "a.safetensors", "alias.safetensors", "notes.txt"]
    assert body["parent"] == str(root) and body["root"] == str(root)
    assert api.get("/api/files/list", query_string={"path": str(root)}).get_json()["parent"] is None
    models = api.get("/api/files/list", query_string={"path": str(root / "models"), "kind": "model",
                                                      "hidden": "1"}).get_json()
    assert [e["name"] for e in models["entries"]] == ["sub", ".hidden.pt", "a.safetensors", "alias.safetensors"]
    folders = api.get("/api/files/list", query_string={"path": str(root / "models"), "kind": "folder"}).get_json()
    assert [e["name"] for e in folders["entries"]] == ["sub"]


@pytest.mark.parametrize("escape", [
    "{root}/..", "{root}/models/../../outside", "{root}/models/link-out", "{root}/models/link-out/secret.txt",
    "{out}", "/", "models", "C:\\Windows", "C:models", "\\\\server\\share\\x", "//server/share/x", "{root}/\0x",
])
def test_paths_out_of_the_roots_are_refused(api, tree, escape):
    root, out = tree
    path = escape.format(root=root, out=out)
    for url in ("/api/files/list", "/api/files/download"):
        resp = api.get(url, query_string={"path": path})
        assert resp.status_code == 403, (url, path, resp.status_code)
        assert resp.get_json()["error"]["code"] == "path_outside_roots"


def test_download_a_file_resumes_with_range(api, tree):
    root, _ = tree
    path = str(root / "models" / "a.safetensors")
    resp = api.get("/api/files/download", query_string={"path": path})
    assert resp.status_code == 200 and resp.data == b"A" * 1000
    assert "attachment" in resp.headers["Content-Disposition"]
    part = api.get("/api/files/download", query_string={"path": path}, headers={"Range": "bytes=900-"})
    assert part.status_code == 206 and part.data == b"A" * 100


def test_download_a_folder_as_a_streamed_zip(api, tree):
    root, _ = tree
    big = os.urandom(3 * (1 << 20) + 17)  # several chunks: the archive is sent while it is written
    (root / "models" / "sub" / "big.bin").write_bytes(big)
    resp = api.get("/api/files/download", query_string={"path": str(root / "models")}, buffered=False)
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    assert resp.headers.get("Content-Length") is None  # streamed, never staged
    chunks = list(resp.response)
    assert len(chunks) > 3
    zf = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert zf.testzip() is None
    # links are left out (the one pointing out of the folder above all); the folder's own files are in
    assert sorted(zf.namelist()) == ["models/.hidden.pt", "models/a.safetensors", "models/notes.txt",
                                     "models/sub/big.bin"]
    assert zf.read("models/sub/big.bin") == big


def test_browse_roots_setting_is_checked(api):
    for bad in ("/x", ["relative/path"], [1], ["/a"] * 21):
        assert api.patch("/api/settings", json={"browse_roots": bad}).status_code == 422, bad


def test_server_mode_opens_nothing_on_the_desktop_and_downloads_instead(remote):
    from tests.servermode.conftest import SECRET, open_as

    auth = {"X-Workbench-Token": SECRET}
    resp = open_as(remote, "POST", "/api/app/open-folder", json={"folder": "logs"}, headers=auth)
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "no_desktop"
    resp = open_as(remote, "POST", "/api/tasks/task_x/open", json={}, headers=auth)
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "no_desktop"
    logs = open_as(remote, "GET", "/api/app/download-folder?folder=logs", headers=auth)
    assert logs.status_code == 200
    assert 'filename=lora-workbench-logs.zip' in logs.headers["Content-Disposition"]
    zipfile.ZipFile(io.BytesIO(logs.data))  # a valid (maybe empty) archive
    assert open_as(remote, "GET", "/api/app/download-folder?folder=/etc", headers=auth).status_code == 422


