"""The in-flight journal of imports (inflight.py): images are written straight under their names, and a
restart removes exactly the ones a crash cut off. The kill -9 test is in test_ds_crash_recovery.py."""

from __future__ import annotations

import pytest

from server.datasets import inflight


@pytest.fixture
def folder(tmp_path):
    """A media folder of its own (tmp_path also holds the test app's data folder)."""
    (tmp_path / "media").mkdir()
    return tmp_path / "media"


def _journal_lines(folder):
    [path] = folder.glob(f"{inflight.PREFIX}*{inflight.SUFFIX}")
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_write_new_writes_the_bytes_and_journals_start_and_end(folder):
    j = inflight.Journal(folder)
    j.write_new("a.png", b"12345")
    assert (folder / "a.png").read_bytes() == b"12345"
    assert _journal_lines(folder) == ["+\t5\ta.png\n", "=\ta.png\n"]
    assert inflight.cut_off(_journal_lines(folder)) == {}
    j.close()
    assert sorted(p.name for p in folder.iterdir()) == ["a.png"]   # the journal went with the import


def test_a_journal_is_made_only_when_a_file_is_written(folder):
    with inflight.Journal(folder):
        pass
    assert list(folder.iterdir()) == []


def test_an_existing_name_is_never_written_and_is_taken_back(folder):
    (folder / "a.png").write_bytes(b"theirs")
    j = inflight.Journal(folder)
    with pytest.raises(FileExistsError):
        j.write_new("a.png", b"ours, longer than theirs")
    assert (folder / "a.png").read_bytes() == b"theirs"
    assert inflight.cut_off(_journal_lines(folder)) == {}   # "-": recovery leaves their file alone
    assert inflight.finish(folder) == 0 and (folder / "a.png").read_bytes() == b"theirs"


def test_a_failed_write_removes_its_partial_file(folder):
    j = inflight.Journal(folder)

    def fail():
        raise OSError(28, "No space left on device")
    with pytest.raises(OSError):
        j.write_new("a.png", b"0123456789", halfway=fail)
    assert not (folder / "a.png").exists()
    assert inflight.cut_off(_journal_lines(folder)) == {}
    j.close()


def test_finish_removes_only_files_cut_off_by_a_crash(folder):
    """What a killed import leaves: a journal without its last lines, and one file half written."""
    (folder / "done.png").write_bytes(b"x" * 10)
    (folder / "cut.png").write_bytes(b"x" * 4)
    (folder / "edited.png").write_bytes(b"x" * 3)    # complete, then made smaller by the user: theirs
    (folder / "whole.png").write_bytes(b"x" * 8)     # all bytes written, killed before its "=" line
    (folder / "other.png").write_bytes(b"x" * 2)     # never in the journal
    (folder / f"{inflight.PREFIX}0a1b2c3d{inflight.SUFFIX}").write_text(
        "+\t10\tdone.png\n=\tdone.png\n"
        "+\t9\tedited.png\n=\tedited.png\n"
        "+\t8\twhole.png\n"
        "+\t10\tcut.png\n"
        "+\t99\t../outside.png\n+\t99\tsub/x.png\n+\t99\tC:x.png\n"   # never a journal's own: ignored
        "+\t10\tnever-crea", encoding="utf-8")                       # torn: its file was not created
    (folder.parent / "outside.png").write_bytes(b"x")
    assert inflight.finish(folder) == 1
    assert sorted(p.name for p in folder.iterdir()) == ["done.png", "edited.png", "other.png", "whole.png"]
    assert (folder.parent / "outside.png").exists()
    assert inflight.finish(folder) == 0   # the journal is gone: nothing is judged twice


def test_finish_never_follows_a_link(folder):
    target = folder.parent / "target.png"
    target.write_bytes(b"x")
    try:
        (folder / "a.png").symlink_to(target)
    except OSError:
        pytest.skip("no symlinks here")
    (folder / f"{inflight.PREFIX}0a1b2c3d{inflight.SUFFIX}").write_text("+\t10\ta.png\n", encoding="utf-8")
    assert inflight.finish(folder) == 0
    assert (folder / "a.png").is_symlink() and target.exists()


def test_names_the_app_writes_survive_the_journal(folder):
    """Unicode and spaces (what sanitize_filename lets through) round-trip through a journal line."""
    j = inflight.Journal(folder)
    j.write_new("日本 語 #1.png", b"abc")
    lines = _journal_lines(folder)
    assert lines[0] == "+\t3\t日本 語 #1.png\n"
    assert inflight.cut_off(lines[:1]) == {"日本 語 #1.png": 3}
    j.close()


def test_a_partial_file_that_cannot_be_removed_is_left_to_the_next_start(folder, monkeypatch):
    """On Windows a scanner may hold the new file: it cannot be removed now, so the journal stays."""
    import os

    j = inflight.Journal(folder)

    def fail():
        raise OSError(28, "No space left on device")
    real_unlink = os.unlink
    monkeypatch.setattr(os, "unlink", lambda p: (_ for _ in ()).throw(PermissionError(13, "in use", str(p))))
    with pytest.raises(OSError, match="No space"):   # the write's own error, not the failed removal's
        j.write_new("a.png", b"0123456789", halfway=fail)
    j.close()
    monkeypatch.setattr(os, "unlink", real_unlink)
    assert (folder / "a.png").read_bytes() == b"01234"
    assert inflight.finish(folder) == 1
    assert list(folder.iterdir()) == []
