"""Import reads each image once (issue 19): hashed, decode-checked and written from the same bytes,
its index row made from that decode check; captions of new names are created in place. Also the
string-only split_name that every import, rescan and page runs."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path, PurePosixPath

import pytest

from server.datasets import captions, importer, inflight, naming
from server.datasets.media_types import split_name

from ds_helpers import image_bytes, make_image

# sys.addaudithook cannot be removed: one hook for the session, recording only while a test asks.
_recording = threading.local()


def _audit(event, args):
    paths = getattr(_recording, "paths", None)
    # ("open", (path, mode, flags)): open() and os.open both give the flags; writes are not reads.
    if paths is not None and event == "open" and isinstance(args[0], (str, bytes, Path)) \
            and args[2] & (os.O_WRONLY | os.O_RDWR) == 0:
        paths.append(Path(args[0] if not isinstance(args[0], bytes) else args[0].decode()))


sys.addaudithook(_audit)


class Opens:
    """Every file this thread opens by path for reading while in the block (open(), os.open, Pillow's opens)."""

    def __enter__(self):
        _recording.paths = []
        return self

    def __exit__(self, *exc):
        self.paths = _recording.paths
        _recording.paths = None

    def count(self, path: Path) -> int:
        return sum(1 for p in self.paths if p.resolve() == path.resolve())


class Ctx:
    id = "test"

    def check(self):
        pass

    def progress(self, *a, **k):
        pass


def _import(svc, ds, src):
    with Opens() as opens:
        report = importer.run_import(svc, ds.id, importer.folder_entries(src), "media", Ctx())
    return report, opens


def test_each_image_is_opened_once_and_indexed_from_that_read(ds, src, svc):
    sizes = {"a.png": (40, 30), "b.jpg": (64, 48), "c.webp": (33, 17)}
    for name, size in sizes.items():
        make_image(src / name, size=size, fmt="WEBP" if name.endswith("webp") else None)
    (src / "a.txt").write_text("1girl, solo", encoding="utf-8")
    report, opens = _import(svc, ds, src)
    assert report["imported"] == 3 and report["captions"] == 1
    for name, size in sizes.items():
        assert opens.count(src / name) == 1, (name, opens.paths)
        assert opens.count(ds.media / name) == 0   # the index row came from the decode check
        assert (ds.media / name).read_bytes() == (src / name).read_bytes()
        item = ds.item(name)
        assert (item["width"], item["height"], item["broken"]) == (*size, False)
    assert opens.count(src / "a.txt") == 1
    assert (ds.media / "a.txt").read_bytes() == b"1girl, solo"

    # Again: every file is a duplicate, found by hashing the bytes read for the check (one open),
    # against the copies already there (each read once to hash it).
    report, opens = _import(svc, ds, src)
    assert report["imported"] == 0 and report["duplicates"] == 3
    for name in sizes:
        assert opens.count(src / name) == 1 and opens.count(ds.media / name) == 1


def test_streamed_images_still_check_hash_and_index(ds, src, svc, monkeypatch):
    """Images over IN_MEMORY_MAX are streamed (verified in place, then copied): same results."""
    monkeypatch.setattr(importer, "IN_MEMORY_MAX", 0)
    make_image(src / "big.png", size=(50, 20))
    (src / "junk.png").write_bytes(b"not a png" * 20)
    report, _ = _import(svc, ds, src)
    assert report["imported"] == 1
    assert {s["path"]: s["reason"] for s in report["skipped"]} == {"junk.png": "corrupt"}
    assert sorted(p.name for p in ds.media.iterdir()) == ["big.png"]
    item = ds.item("big.png")
    assert (item["width"], item["height"]) == (50, 20)
    report, _ = _import(svc, ds, src)
    assert report["duplicates"] == 1 and report["imported"] == 0


def test_duplicate_within_one_import_from_memory(ds, src, svc):
    data = image_bytes(size=(24, 24), fmt="PNG")
    (src / "one.png").write_bytes(data)
    (src / "two.png").write_bytes(data)
    report, _ = _import(svc, ds, src)
    assert report["imported"] == 1 and report["duplicates"] == 1
    assert [s["existing"] for s in report["skipped"]] == ["one.png"]


def test_write_new_creates_exact_bytes_and_never_overwrites(tmp_path):
    tmp_path = tmp_path / "media"
    tmp_path.mkdir()
    assert captions.write_new(tmp_path, "x.png", "a, b\nsecond line") is True
    assert (tmp_path / "x.txt").read_bytes() == b"a, b\nsecond line"   # \n as given, on Windows too
    assert captions.write_new(tmp_path, "x.png", "other") is False
    assert (tmp_path / "x.txt").read_bytes() == b"a, b\nsecond line"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]   # no temp file left


@pytest.mark.parametrize("name", ["a.png", ".png", "a.", "a..", "..a", ".a.b", "a.tar.gz", "", ".", "..",
                                  "a/b.c", "a/", "x.y/", "...", "a.b.", "日本.PNG", "a b.JPG", "a\\b.c"])
def test_split_name_matches_pathlib(name):
    p = PurePosixPath(name)
    assert split_name(name) == (p.stem, p.suffix)


def test_written_captions_are_indexed_without_reading_them_back(ds, src, svc):
    make_image(src / "a.png", size=(40, 30))
    (src / "a.txt").write_text("1girl, solo, 日本", encoding="utf-8")
    report, opens = _import(svc, ds, src)
    assert report["imported"] == 1 and report["captions"] == 1
    assert opens.count(ds.media / "a.txt") == 0   # only its exclusive create: the index row took the text written
    assert ds.item("a.png")["caption"] == "1girl, solo, 日本"


def test_a_caption_changed_since_it_was_written_is_read_again(ds, svc):
    """The text handed to the index stands only while the file still has its size (as a decode check's
    info does): another tool's edit in between is what gets indexed."""
    from server.datasets import items, storage

    make_image(ds.media / "b.png", size=(20, 10))
    (ds.media / "b.txt").write_text("edited by hand", encoding="utf-8")
    dirs = storage.dataset_dirs(svc.layout, ds.id)
    row = items.build_row(dirs, ds.id, "b.png", (ds.media / "b.png").stat(), None, [], written="as imported")
    assert row["caption"] == "edited by hand"
    row = items.build_row(dirs, ds.id, "b.png", (ds.media / "b.png").stat(), None, [], written="edited by HAND")
    assert row["caption"] == "edited by HAND"   # same size: taken as written (what the import just wrote)


def test_files_placed_after_a_comparison_keep_their_digest(ds, src, svc):
    """Same-size files are compared by SHA-256; one placed after being compared keeps its digest, so a
    later file of that size does not read it back from the dataset (only the first of a size is read)."""
    for name, color in (("a.bmp", (10, 0, 0)), ("b.bmp", (20, 0, 0)), ("c.bmp", (30, 0, 0))):
        make_image(src / name, size=(16, 16), color=color, fmt="BMP")
    (src / "d.bmp").write_bytes((src / "b.bmp").read_bytes())
    assert len({(src / n).stat().st_size for n in ("a.bmp", "b.bmp", "c.bmp", "d.bmp")}) == 1
    report, opens = _import(svc, ds, src)
    assert report["imported"] == 3 and report["duplicates"] == 1
    assert [s["existing"] for s in report["skipped"]] == ["b.bmp"]
    assert [opens.count(ds.media / n) for n in ("a.bmp", "b.bmp", "c.bmp")] == [1, 0, 0]
    # A later import compares against the dataset as it is on disk (nothing kept between imports).
    report, opens = _import(svc, ds, src)
    assert report["duplicates"] == 4 and report["imported"] == 0


@pytest.mark.parametrize("streamed", [False, True])
def test_a_name_another_tool_made_meanwhile_is_never_overwritten(ds, src, monkeypatch, streamed):
    """The folder was listed when the import began; a file made under the same name since is kept, and
    the import takes the next name (written straight there, or renamed from its temp copy)."""
    if streamed:
        monkeypatch.setattr(importer, "IN_MEMORY_MAX", 0)
    make_image(src / "a.png", size=(20, 10))
    [entry] = importer.folder_entries(src)
    claimer = naming.Claimer(ds.media, by_stem=True)   # lists the folder: "a" is free
    (ds.media / "a.png").write_bytes(b"theirs")          # another tool makes it now
    with claimer, inflight.Journal(ds.media) as journal:
        name, (size, _) = importer._place(entry, ds.media, claimer, "a", "image", journal)
    assert name == "a_1.png" and size == (src / "a.png").stat().st_size
    assert (ds.media / "a.png").read_bytes() == b"theirs"
    assert (ds.media / "a_1.png").read_bytes() == (src / "a.png").read_bytes()
    assert sorted(p.name for p in ds.media.iterdir()) == ["a.png", "a_1.png"]   # no temp copy, no journal
