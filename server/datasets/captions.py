"""Caption files: `<media stem>.txt` beside the media file, utf-8.

Writes are atomic (a temp file in the same folder, then os.replace) so a crash, a full disk or
a training run reading at the same moment never sees half a caption. `None` means "no caption
file"; "" is an empty file - the two differ on disk and the UI shows them alike.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..fileio import NEW_FILE, atomic_write_text, write_all

from .limits import MAX_CAPTION_BYTES
from .media_types import CAPTION_EXT, split_name


def caption_path(media_dir: Path, media_name: str) -> Path:
    return media_dir / (split_name(media_name)[0] + CAPTION_EXT)


def _read_bytes(path: Path) -> tuple[bytes, bool] | None:
    """(the file's bytes up to the limit, whether it holds more), or None when there is no caption.

    A caption that is a link to a file outside its folder counts as none, as a media link does
    (items._own_file): its text would otherwise be served, indexed and sent to tagging APIs. Writing
    a caption replaces such a link with a real file; the target is never touched."""
    if path.is_symlink() and Path(os.path.realpath(path.parent)) not in Path(os.path.realpath(path)).parents:
        return None
    try:
        with open(path, "rb") as f:
            # A caption is text: more than the limit is something else, and would bloat every page.
            # Asked for no more than the file holds: a read of the limit allocates it (1 MiB) each time,
            # which took longer than the rest of the read. One byte more shows a file that grew meanwhile.
            data = f.read(min(os.fstat(f.fileno()).st_size, MAX_CAPTION_BYTES) + 1)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return None
    return data[:MAX_CAPTION_BYTES], len(data) > MAX_CAPTION_BYTES


def _decode(data: bytes) -> str:
    # A BOM from Windows editors is dropped; bytes that are not utf-8 are replaced rather than failing
    # the whole listing.
    return data.decode("utf-8-sig", errors="replace")


def read_text(path: Path) -> str | None:
    """The caption at `path` (its start, when it is over the limit), or None when there is none."""
    got = _read_bytes(path)
    return None if got is None else _decode(got[0])


def read(media_dir: Path, media_name: str) -> str | None:
    return read_text(caption_path(media_dir, media_name))


def read_for_edit(media_dir: Path, media_name: str) -> tuple[str | None, bool]:
    """(text or None, False), or (None, True) when the caption is over the limit: `read` gives only its
    start, so such a caption is never rewritten (an edit would drop the rest), only reported."""
    got = _read_bytes(caption_path(media_dir, media_name))
    if got is None:
        return None, False
    return (None, True) if got[1] else (_decode(got[0]), False)


def write_atomic(path: Path, text: str, *, fsync: bool = True) -> None:
    """Readers see the old text or the new one, never a mix, whatever happens to the app.

    `fsync=False` gives up only the power-cut guarantee (the newest text may be lost, or on some
    file systems show up empty): batch operations and imports use it because 10,000 fsyncs cost
    seconds, and their inputs are kept (undo history, the import source)."""
    atomic_write_text(path, text, fsync=fsync)


def write(media_dir: Path, media_name: str, text: str | None, *, fsync: bool = True) -> Path:
    """Write (or, for None, remove) the caption of `media_name`.

    None is only used by undo, to return an item to "had no caption file"; the text it had is kept
    in the history step, so nothing the user wrote is lost.
    """
    path = caption_path(media_dir, media_name)
    if text is None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        return path
    write_atomic(path, text, fsync=fsync)
    return path


def write_new(media_dir: Path, media_name: str, text: str) -> bool:
    """Create the caption of a media file that has none: one exclusive create and one write, with no
    temp file and rename (an import of 10,000 files saves 10,000 renames, ~1 ms each). There is no old
    text a reader could see half-replaced; a reader at that very moment may see the file empty, as it
    may see "no caption" a moment before. No fsync, as for every import write (the source keeps it).
    False, with nothing written, when a caption file (or link) is already there: write atomically then."""
    path = caption_path(media_dir, media_name)
    try:
        fd = os.open(path, NEW_FILE, 0o666)
    except FileExistsError:
        return False
    try:
        write_all(fd, text.encode("utf-8"))
    except BaseException:
        os.close(fd)
        path.unlink()
        raise
    os.close(fd)
    return True


def normalize(text) -> str:
    """Caption text as written to disk: a string, with Windows/Mac line ends made plain newlines."""
    if text is None:
        return ""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return text
