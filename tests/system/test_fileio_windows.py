"""Renames retry while another process briefly holds the file (Windows), instead of failing or copying;
a rename that must not replace a file never does, on each system's own way of doing it."""

from __future__ import annotations

import sys
import types

import pytest

from server import fileio
from tests.system.held import HeldFiles


@pytest.fixture
def held(monkeypatch):
    return HeldFiles(monkeypatch)


def test_replace_waits_for_a_scanner_to_let_go(held, tmp_path):
    src, dst = tmp_path / "new.txt", tmp_path / "caption.txt"
    src.write_text("new")
    dst.write_text("old")
    held.hold(dst, attempts=3)  # e.g. an antivirus scanning the caption just written
    fileio.replace(src, dst)
    assert dst.read_text() == "new" and not src.exists()
    assert held.denied == 3


def test_replace_gives_up_on_a_real_lock(held, tmp_path):
    src, dst = tmp_path / "a", tmp_path / "b"
    src.write_text("x")
    held.hold(src, attempts=10**9)
    with pytest.raises(PermissionError):
        fileio.replace(src, dst, retry_for=0.2)
    assert src.read_text() == "x" and not dst.exists()


def test_atomic_write_onto_a_held_target(held, tmp_path):
    target = tmp_path / "image.txt"
    target.write_text("before")
    held.hold(target, attempts=2)
    fileio.atomic_write_text(target, "after")
    assert target.read_text() == "after"
    assert [p.name for p in tmp_path.iterdir()] == ["image.txt"]  # no temp file left behind


def test_move_a_held_folder_is_a_rename_not_a_copy(held, tmp_path):
    src = tmp_path / "venv"
    (src / "Scripts").mkdir(parents=True)
    (src / "Scripts" / "python.exe").write_bytes(b"MZ")
    dst = tmp_path / "trash" / "venv"
    dst.parent.mkdir()
    held.hold(src, attempts=2)
    fileio.move(src, dst)
    assert not src.exists() and (dst / "Scripts" / "python.exe").read_bytes() == b"MZ"


def test_move_refuses_an_existing_destination(tmp_path):
    (tmp_path / "a").write_text("a")
    (tmp_path / "b").write_text("b")
    with pytest.raises(FileExistsError):
        fileio.move(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "b").read_text() == "b"


def _no_overwrite_cases(tmp_path):
    src, dst = tmp_path / ".~import-1.jpg", tmp_path / "a.jpg"
    src.write_bytes(b"new")
    fileio.rename_no_overwrite(src, dst)
    assert dst.read_bytes() == b"new" and not src.exists()
    again = tmp_path / ".~import-2.jpg"
    again.write_bytes(b"other")
    with pytest.raises(FileExistsError):
        fileio.rename_no_overwrite(again, dst)
    assert dst.read_bytes() == b"new" and again.read_bytes() == b"other"


def test_rename_no_overwrite(tmp_path):
    if sys.platform.startswith("linux"):
        assert fileio._renameat2() is not None   # glibc 2.28+: one directory operation
    _no_overwrite_cases(tmp_path)


@pytest.mark.parametrize("renameat2", [None, lambda src, dst: False], ids=["no renameat2", "not on this fs"])
def test_rename_no_overwrite_by_hard_link(monkeypatch, tmp_path, renameat2):
    monkeypatch.setattr(fileio, "_renameat2", lambda: renameat2)
    _no_overwrite_cases(tmp_path)


def test_rename_no_overwrite_on_windows_waits_for_a_scanner(monkeypatch, held, tmp_path):
    monkeypatch.setattr(fileio, "sys", types.SimpleNamespace(platform="win32"))
    src, dst = tmp_path / ".~import-1.jpg", tmp_path / "a.jpg"
    src.write_bytes(b"new")
    held.hold(src, attempts=2)   # the antivirus opens the file it just saw written
    fileio.rename_no_overwrite(src, dst)
    assert dst.read_bytes() == b"new" and not src.exists() and held.denied == 2


def test_rename_no_overwrite_without_hard_links(monkeypatch, tmp_path):
    """FAT and some network shares refuse hard links (EPERM): a check, then a rename, still never replacing."""
    def no_links(src, dst):
        raise PermissionError(1, "Operation not permitted", str(src))

    monkeypatch.setattr(fileio, "_renameat2", lambda: None)
    monkeypatch.setattr(fileio.os, "link", no_links)
    _no_overwrite_cases(tmp_path)
