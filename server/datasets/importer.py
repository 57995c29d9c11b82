"""Importing media into a dataset: from a local folder (copied), a zip, or files uploaded by the UI.

Every source becomes a list of `Entry` (a relative path and a way to open it), then one plan:
- images/videos allowed by the dataset type are imported into media/ (or control/), each checked
  by decoding it first; corrupt or unreadable ones are reported and skipped;
- a `same-stem.txt` in the same source folder is imported as that file's caption;
- sub-folders are flattened (musubi reads one folder), and name clashes become `name_1.png`...
  with the caption - and any control image of the same import - following the new name; a file
  whose content is already in the dataset (SHA-256) is skipped as a duplicate instead;
- links to files outside the source, files over the size limits (limits.py) and zip bombs are
  refused before anything is copied, and listed in the report;
- in image_control datasets, files under a folder named control/controls/conditioning go into the
  control slot, paired with the target of the same stem.
It runs as a job (`submit()`): progress per file, cancel between files, a report as the result.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import stat
import tempfile
import threading
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

from .. import fileio
from ..jobs import JobError
from ..paths import user_path
from . import captions, inflight, items, limits, naming, probe, recovery, storage, testpoint, thumbnails
from .errors import Conflict, ValidationError
from .media_types import TYPE_KINDS, kind_of, rel_parts, sanitize_filename, split_name

CONTROL_FOLDERS = {"control", "controls", "conditioning", "control_images"}
IGNORED = {".ds_store", "thumbs.db", "desktop.ini"}
INDEX_BATCH = 200
MAX_REPORTED = 2000
UPLOAD_ID = re.compile(r"[0-9a-f]{16}")  # used with fullmatch: `$` would also accept a trailing newline
_CONTROL_SUFFIX = re.compile(r"^(.*)_(\d+)$")


@dataclass
class Entry:
    path: str                      # as the user knows it, for the report
    parts: list[str]               # safe relative folder parts + base name
    open: Callable[[], BinaryIO]
    local: Path | None = None      # set when the file is on disk and can be verified in place
    size: int | None = None        # as the source declares it (stat, zip header): checked before copying
    refused: tuple[str, str] | None = None  # (reason, message): listed in the report, never copied

    @property
    def folder(self) -> tuple[str, ...]:
        return tuple(self.parts[:-1])

    @property
    def name(self) -> str:
        return self.parts[-1]


# ---- sources -----------------------------------------------------------------------------

LINK_MESSAGE = "A link to a file outside the imported folder: only files inside it are imported."


def _leaves(root: Path, path: Path) -> bool:
    """True for a link whose target is outside `root` (media and captions are treated alike)."""
    if not path.is_symlink():
        return False
    real_root = Path(os.path.realpath(root))
    return real_root not in Path(os.path.realpath(path)).parents


def _refused(path: str, parts: list[str], reason: str, message: str) -> Entry:
    return Entry(path=path, parts=parts or ["file"], open=_never, refused=(reason, message))


def _never():
    raise OSError("a refused entry is never opened")


def folder_entries(root: Path, *, expand_zips: bool = False) -> list[Entry]:
    out: list[Entry] = []

    def unreadable(exc: OSError) -> None:
        if Path(exc.filename or "") == root:  # the source itself, not a subfolder: nothing can be imported
            raise exc
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        rel_dir = Path(dirpath).relative_to(root).parts
        for d in sorted(dirnames):  # os.walk does not enter linked folders: say so in the report
            if not d.startswith(".") and _leaves(root, Path(dirpath) / d):
                out.append(_refused("/".join([*rel_dir, d]), [*rel_dir, d], "link", LINK_MESSAGE))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in sorted(filenames):
            if fn.startswith(".") or fn.lower() in IGNORED:
                continue
            full = Path(dirpath) / fn
            rel = "/".join([*rel_dir, fn])
            if _leaves(root, full):
                out.append(_refused(rel, [*rel_dir, fn], "link", LINK_MESSAGE))
                continue
            if expand_zips and fn.lower().endswith(".zip"):
                try:
                    out.extend(zip_entries(full, prefix=[*rel_dir, Path(fn).stem]))
                except ValidationError as exc:
                    out.append(_refused(rel, [*rel_dir, fn], exc.code, exc.message))
                continue
            try:
                size = full.stat().st_size
            except OSError:
                size = None
            out.append(Entry(path=rel, parts=[*rel_dir, fn], open=lambda p=full: open(p, "rb"), local=full,
                             size=size))
    return out


def zip_entries(zip_path: Path, prefix: list[str] | None = None) -> list[Entry]:
    """Members of a zip. Names are never used as paths (only their parts, for pairing), so a
    member called ../../x.png cannot write outside the dataset."""
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValidationError(f"{zip_path.name} is not a readable zip file ({exc}).", field="path",
                              code="bad_zip") from exc
    out = []
    for info in zf.infolist():
        if info.is_dir():
            continue
        parts = rel_parts(info.filename)
        if not parts or parts[0] == "__MACOSX" or parts[-1].startswith(".") or parts[-1].lower() in IGNORED:
            continue
        try:
            check_zip_member(zip_path.name, info)
        except ValidationError:
            zf.close()
            raise
        path = f"{zip_path.name}:{info.filename}"
        if stat.S_ISLNK(info.external_attr >> 16):
            out.append(_refused(path, [*(prefix or []), *parts], "link", LINK_MESSAGE))
            continue
        # ZipExtFile never yields more than file_size bytes, and checks the CRC at the end.
        out.append(Entry(path=path, parts=[*(prefix or []), *parts], open=lambda i=info: zf.open(i),
                         size=info.file_size))
    return out


def check_zip_member(zip_name: str, info: zipfile.ZipInfo) -> None:
    """Refuse a zip bomb from the sizes its directory declares, before one byte is unpacked."""
    if info.file_size > limits.ZIP_RATIO_MIN_BYTES and \
            info.file_size > limits.MAX_ZIP_RATIO * max(info.compress_size, 1):
        raise ValidationError(
            f"{zip_name} looks like a zip bomb: {info.filename} unpacks to "
            f"{info.file_size // limits.MiB} MB from {max(info.compress_size, 1) // 1024} KB.",
            field="path", code="zip_bomb", details={"member": info.filename, "size": info.file_size})


def check_space(folder: Path, needed: int) -> None:
    """Refuse before unpacking what would not fit: a full disk half-way leaves a half import."""
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise ValidationError(f"This needs {needed // limits.MiB} MB but the disk has {free // limits.MiB} MB free.",
                              field="path", code="not_enough_space", details={"needed": needed, "free": free})


def upload_dir(layout, upload_id: str) -> Path:
    if not UPLOAD_ID.fullmatch(upload_id or ""):
        raise ValidationError("Unknown upload id.", field="upload_id", code="bad_upload_id")
    return layout.cache / "uploads" / upload_id


def new_upload_id() -> str:
    return uuid.uuid4().hex[:16]


# Uploads the user cancelled (DELETE), by staging path. A chunk the server was still reading when
# the browser aborted it may finish afterwards: it must not bring the folder back or start an import.
# Kept for the life of the process; ids are random, so the set stays small.
_discarded: set[str] = set()
_upload_lock = threading.Lock()


def _discarded_error() -> Conflict:
    return Conflict("This upload was cancelled; nothing was kept.", code="upload_discarded")


def check_upload_live(layout, upload_id: str) -> None:
    """Raise 409 upload_discarded (and clear any staged files) when the upload was cancelled."""
    base = upload_dir(layout, upload_id)
    if str(base) in _discarded:
        shutil.rmtree(base, ignore_errors=True)
        raise _discarded_error()


def discard_upload(svc, dataset_id: str, upload_id: str) -> dict:
    """Cancel an upload: drop what was staged, refuse chunks still arriving, and stop its import job
    if the last chunk had already started one (items it copied before stopping stay)."""
    base = upload_dir(svc.layout, upload_id)
    with _upload_lock:
        _discarded.add(str(base))
        shutil.rmtree(base, ignore_errors=True)
    cancelled = False
    for job in svc.jobs.list(owner=storage.topic(dataset_id), active_only=True):
        if job["kind"] == "dataset_import" and (job.get("params") or {}).get("upload_id") == upload_id:
            svc.jobs.cancel(job["id"])
            cancelled = True
    return {"discarded": True, "job_cancelled": cancelled}


def finish_upload(svc, dataset_id: str, upload_id: str, slot: str, final: bool) -> dict | None:
    """After a chunk was staged: refuse it if the upload was cancelled meanwhile, else start the
    import on the last chunk. Under the lock, so a DELETE cannot slip in between check and start."""
    with _upload_lock:
        check_upload_live(svc.layout, upload_id)
        return submit_upload(svc, dataset_id, upload_id, slot) if final else None


def stage_upload(layout, upload_id: str, files: list[tuple[str, BinaryIO]], *, new: bool = False) -> list[dict]:
    """Save uploaded files under the staging folder, keeping their (sanitized) relative folders so
    captions still pair with their images when the import runs. `new`: the first chunk of an upload
    whose id the client chose; otherwise the id must name an upload already staged."""
    base = upload_dir(layout, upload_id)
    check_upload_live(layout, upload_id)
    if new and base.exists():
        raise ValidationError("This upload id is already in use.", field="upload_id", code="bad_upload_id")
    if not new and not base.is_dir():
        raise ValidationError("Unknown upload id.", field="upload_id", code="bad_upload_id")
    base.mkdir(parents=True, exist_ok=True)
    try:
        return _stage_files(base, files)
    except OSError:
        check_upload_live(layout, upload_id)  # the folder went away under us: the upload was cancelled
        if new:  # a refused first chunk (e.g. a path too long to store) leaves no staging folder behind
            shutil.rmtree(base, ignore_errors=True)
        raise


def _stage_files(base: Path, files: list[tuple[str, BinaryIO]]) -> list[dict]:
    saved = []
    for raw_path, stream in files:
        parts = [sanitize_filename(p) for p in rel_parts(raw_path)] or ["file"]
        dest = base.joinpath(*parts)
        n = 0
        while dest.exists():  # the same relative path sent twice: keep both
            n += 1
            stem, ext = split_name(parts[-1])
            dest = base.joinpath(*parts[:-1], f"{stem}_{n}{ext}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "xb") as f:
            shutil.copyfileobj(stream, f, 1024 * 1024)
        saved.append({"path": raw_path, "stored": dest.relative_to(base).as_posix(), "size": dest.stat().st_size})
    return saved


# ---- planning ----------------------------------------------------------------------------

@dataclass
class Plan:
    targets: list[tuple[Entry, Entry | None]]   # media entry, its caption entry
    controls: list[Entry]
    skipped: list[dict]


def plan(entries: list[Entry], dataset_type: str, slot: str) -> Plan:
    allowed = TYPE_KINDS[dataset_type]
    caption_for = {(e.folder, split_name(e.name)[0]): e for e in entries
                   if kind_of(e.name) == "caption" and e.refused is None
                   and (e.size is None or e.size <= limits.MAX_CAPTION_BYTES)}
    used_captions: set[int] = set()
    targets, controls, skipped = [], [], []
    for e in entries:
        kind = kind_of(e.name)
        if e.refused is None and e.size is not None and e.size > limits.max_bytes(kind):
            e.refused = ("too_large", f"Larger than the {limits.max_bytes(kind) // limits.MiB} MB "
                                      f"a{'n' if kind == 'image' else ''} {kind or 'file'} may be.")
        if e.refused is not None:
            skipped.append(_skip(e, *e.refused))
            continue
        if kind == "caption":
            continue
        if kind is None:
            skipped.append(_skip(e, "unsupported_type", "Not an image or video file type the dataset accepts."))
            continue
        to_control = slot == "control" or (
            dataset_type == "image_control" and any(p.lower() in CONTROL_FOLDERS for p in e.folder))
        if to_control:
            if kind != "image":
                skipped.append(_skip(e, "wrong_kind", "Control files must be images."))
            else:
                controls.append(e)
            continue
        if kind not in allowed:
            skipped.append(_skip(e, "wrong_kind", f"This {dataset_type} dataset does not take {kind} files."))
            continue
        cap = caption_for.get((e.folder, split_name(e.name)[0]))
        if cap is not None:
            used_captions.add(id(cap))
        targets.append((e, cap))
    if slot == "media":
        for cap in caption_for.values():
            if id(cap) not in used_captions:
                skipped.append(_skip(cap, "caption_without_media", "No image or video with the same name came with it."))
    return Plan(targets=targets, controls=controls, skipped=skipped)


def _skip(e: Entry, reason: str, message: str) -> dict:
    return {"path": e.path, "reason": reason, "message": message}


# ---- copying -----------------------------------------------------------------------------

# Images up to this size are read from the source once and then hashed, decode-checked and written
# from the same bytes (a 24 MP JPEG is ~10 MB); larger files and videos are streamed.
IN_MEMORY_MAX = 64 * limits.MiB


def _read_whole(e: Entry, kind: str) -> bytes | None:
    """The whole file when it is an image small enough to hold in memory, else None (streamed)."""
    if kind != "image" or e.size is None or e.size > IN_MEMORY_MAX:
        return None
    with e.open() as src:
        return limits.read_limited(src, limits.max_bytes(kind))


def _temp_file(e: Entry, folder: Path, write: Callable[[BinaryIO], None]) -> Path:
    """A temp file in the destination folder holding a streamed entry's bytes (a video, an image too large
    to hold in memory: its size is only known once copied, and it is checked there). Same folder so the
    final rename is atomic; the temp name is hidden from rescans, and one a crash leaves behind is
    removed at the next start (recovery.py). So a file under its real name is always complete."""
    ext = Path(e.name).suffix.lower()
    fd, tmp = tempfile.mkstemp(prefix=".~import-", suffix=ext, dir=str(folder))
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
        testpoint.reached("import_temp")
        return Path(tmp)
    except BaseException:
        os.unlink(tmp)
        raise


def _temp_copy(e: Entry, folder: Path, kind: str) -> tuple[Path, probe.MediaInfo | None]:
    """Stream the entry to a temp file and decode-check it there (unless its on-disk source was
    verified in place already: the info is then None)."""
    def copy(out):
        with e.open() as src:
            limits.copy_limited(src, out, limits.max_bytes(kind))
    tmp = _temp_file(e, folder, copy)
    try:
        if e.local is not None:
            return tmp, None
        return tmp, (probe.image_info if kind == "image" else probe.video_info)(tmp, verify=True)
    except BaseException:
        os.unlink(tmp)
        raise


class Duplicate(Exception):
    """The file is already in the dataset (same content): `name` is the copy that is there."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _place(e: Entry, folder: Path, claimer: naming.Claimer, stem: str, kind: str, journal: inflight.Journal,
           same_as: Callable[[int, Callable[[], str]], str | None] | None = None
           ) -> tuple[str, tuple[int, probe.MediaInfo | None]]:
    """Verify, then write into `folder` under a free name derived from `stem`; returns the name and
    (size, what the decode check read), so the index row needs no second open. `same_as(size, digest)` names a
    file already there with the same content: Duplicate is raised instead. A corrupt file or a
    duplicate is never copied. `journal`: the in-flight journal of this import in `folder`."""
    ext = Path(e.name).suffix.lower()
    data = _read_whole(e, kind)
    if data is not None:   # one read of the source: check, compare and write the same bytes
        info = probe.image_info(io.BytesIO(data), verify=True)
        existing = same_as(len(data), lambda: hashlib.sha256(data).hexdigest()) if same_as else None
        if existing:
            raise Duplicate(existing)
        # Straight under its name: the journal tells a restart which file a crash cut off.
        name = _to_free_name(claimer, stem, ext, lambda name: journal.write_new(name, data, halfway=_halfway))
        return name, (len(data), info)
    info = None
    if e.local is not None:
        # On-disk sources are verified (and compared) in place, so a corrupt file is never copied at all.
        info = (probe.image_info if kind == "image" else probe.video_info)(e.local, verify=True)
        existing = same_as(e.local.stat().st_size, lambda: Contents.digest(e.local)) if same_as else None
        if existing:
            raise Duplicate(existing)
    tmp, checked = _temp_copy(e, folder, kind)
    info = checked if checked is not None else info
    try:
        if same_as and e.local is None:
            existing = same_as(tmp.stat().st_size, lambda: Contents.digest(tmp))
            if existing:
                raise Duplicate(existing)
        size = tmp.stat().st_size
        return _to_free_name(claimer, stem, ext, lambda name: fileio.rename_no_overwrite(tmp, folder / name)), \
            (size, info)
    finally:
        if tmp.exists():
            tmp.unlink()


def _to_free_name(claimer: naming.Claimer, stem: str, ext: str, put: Callable[[str], None]) -> str:
    """`put(name)` under the first name claimed for `stem + ext` that is free on disk too; returns it.
    `put` raises FileExistsError, having changed nothing, when another tool made that name meanwhile."""
    while True:
        name = claimer.claim(stem, ext)
        try:
            put(name)
            return name
        except FileExistsError:
            continue   # claim the next one


def _halfway() -> None:
    testpoint.reached("import_partial")


class Contents:
    """Finds a file already in the media folder with the same bytes: sizes first (from one listing),
    and a SHA-256 only of files whose size matches, so a large dataset is not read for each import.
    Each file is hashed at most once; a file this import placed is known by the digest it was compared
    with, so 10,000 pictures of similar sizes are not compared one by one."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.sizes: set[int] | None = None
        self.unread: dict[int, list[str]] = {}        # files of each size not hashed yet
        self.by_digest: dict[tuple[int, str], str] = {}
        self.last: tuple[int, str] | None = None   # (size, digest) of the newest file compared

    def _list(self) -> set[int]:
        if self.sizes is None:
            self.sizes = set()
            with os.scandir(self.folder) as it:
                for entry in it:
                    if not entry.name.startswith(".") and kind_of(entry.name) in ("image", "video") \
                            and entry.is_file(follow_symlinks=False):
                        size = entry.stat().st_size
                        self.sizes.add(size)
                        self.unread.setdefault(size, []).append(entry.name)
        return self.sizes

    @staticmethod
    def digest(path: Path) -> str:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()

    def same_as(self, size: int, digest: Callable[[], str]) -> str | None:
        """The name of a file here of `size` bytes whose SHA-256 is `digest()` (called only when
        some file has that size), or None."""
        self.last = None
        if size not in self._list():
            return None
        mine = (size, digest())
        self.last = mine
        for name in self.unread.pop(size, []):
            try:
                self.by_digest.setdefault((size, self.digest(self.folder / name)), name)
            except OSError:
                continue   # gone or unreadable since the listing: it cannot be the same file
        return self.by_digest.get(mine)

    def add(self, name: str, size: int) -> None:
        """`name` (`size` bytes) was placed: when it is the file just compared, its digest is kept, so a
        later file of the same size is not compared by reading it back from the disk."""
        self._list().add(size)
        if self.last is not None and self.last[0] == size:
            self.by_digest.setdefault(self.last, name)
        else:
            self.unread.setdefault(size, []).append(name)
        self.last = None


def _read_caption(e: Entry) -> str:
    with e.open() as f:
        data = limits.read_limited(f, limits.MAX_CAPTION_BYTES)
    return captions.normalize(data.decode("utf-8-sig", errors="replace"))


class Report:
    def __init__(self, skipped: list[dict]):
        self.imported: list[str] = []
        self.controls: list[str] = []
        self.captions = 0
        self.duplicates = 0
        self.renamed: list[dict] = []
        self.skipped = list(skipped)

    def skip(self, e: Entry, reason: str, message: str, **extra) -> None:
        self.skipped.append({**_skip(e, reason, message), **extra})

    def as_dict(self) -> dict:
        return {
            "imported": len(self.imported), "controls": len(self.controls), "captions": self.captions,
            "duplicates": self.duplicates,
            "renamed": self.renamed[:MAX_REPORTED], "renamed_count": len(self.renamed),
            "skipped": self.skipped[:MAX_REPORTED], "skipped_count": len(self.skipped),
        }


class ImportRun:
    """One import: copies the plan's files, indexes them in batches, builds the report."""

    def __init__(self, svc, dataset_id: str, entries: list[Entry], slot: str, ctx):
        self.svc, self.dataset_id, self.ctx = svc, dataset_id, ctx
        self.ds = storage.row(svc, dataset_id)
        self.dirs = storage.dataset_dirs(svc.layout, dataset_id).ensure()
        self.plan = plan(entries, self.ds["type"], slot)
        self.report = Report(self.plan.skipped)
        self.total = len(self.plan.targets) + len(self.plan.controls)
        self.done = 0
        self.pending: list[str] = []
        self.new_stems: dict[str, str] = {}   # original stem -> stem it got, so controls follow their target
        self.contents = Contents(self.dirs.media)
        # (size, what its decode check read) of each file placed, for its index row
        self.probed: dict[str, tuple[int, probe.MediaInfo]] = {}
        self.captions: dict[str, str] = {}   # caption text written for a placed name, for its index row

    def run(self) -> dict:
        self.ctx.progress(0, self.total, force=True, message_code="import_start")
        also = self.dirs.control if self.ds["type"] == "image_control" else None
        with naming.Claimer(self.dirs.media, by_stem=True, also=also) as media_names, \
                naming.Claimer(self.dirs.control, by_stem=False) as control_names, \
                inflight.Journal(self.dirs.media) as self.media_journal, \
                inflight.Journal(self.dirs.control) as self.control_journal:
            try:
                for e, cap in self.plan.targets:
                    self._step(e, lambda e=e, cap=cap: self._target(e, cap, media_names))
                for e in self.plan.controls:
                    self._step(e, lambda e=e: self._control(e, control_names))
            finally:
                self._flush()  # a cancelled import still lists what it copied
        if self.report.controls:
            # Controls change the pairing of existing items too: let the index recompute it.
            items.rescan(self.svc, self.dataset_id)
        storage.touch(self.svc, self.dataset_id)
        return self.report.as_dict()

    def _step(self, e: Entry, work: Callable[[], None]) -> None:
        self.ctx.check()
        try:
            work()
        except probe.MediaError as exc:
            self.report.skip(e, "corrupt", str(exc))
        except limits.TooLarge as exc:
            self.report.skip(e, "too_large", str(exc))
        except OSError as exc:
            self.report.skip(e, "unreadable", f"Could not read or copy the file ({exc.strerror or exc}).")
        self.done += 1
        self.ctx.progress(self.done, self.total, message_code="import_file", params={"file": e.path})

    def _target(self, e: Entry, cap: Entry | None, claimer: naming.Claimer) -> None:
        clean = sanitize_filename(e.name)
        stem = split_name(clean)[0]
        try:
            name, placed = _place(e, self.dirs.media, claimer, stem, kind_of(e.name), self.media_journal,
                                  same_as=self.contents.same_as)
        except Duplicate as dup:
            self._duplicate(e, cap, dup.name)
            return
        self.contents.add(name, placed[0])
        testpoint.reached("import_placed")
        self.new_stems.setdefault(stem, split_name(name)[0])
        if name != clean:
            self.report.renamed.append({"from": e.path, "to": name})
        if cap is not None:
            try:
                # No fsync per caption: the source still has it, and 10,000 fsyncs cost seconds. The name
                # is new, so its caption is created in place (a stray .txt of that stem: replaced atomically).
                text = _read_caption(cap)
                if not captions.write_new(self.dirs.media, name, text):
                    captions.write(self.dirs.media, name, text, fsync=False)
                self.captions[name] = text
                self.report.captions += 1
            except limits.TooLarge as exc:
                self.report.skip(cap, "too_large", str(exc))
            except OSError as exc:
                self.report.skip(cap, "unreadable", f"Could not read the caption ({exc}).")
        self.report.imported.append(name)
        self.pending.append(name)
        if placed[1] is not None:
            self.probed[name] = placed
        if len(self.pending) >= INDEX_BATCH:
            self._flush()

    def _duplicate(self, e: Entry, cap: Entry | None, existing: str) -> None:
        """The same file is in the dataset already (imported before, or twice in this import): skipped,
        not copied as name_1. Its caption comes along only when the copy there has none (an import
        killed between copying a file and writing its caption is finished by importing again)."""
        self.report.duplicates += 1
        self.report.skip(e, "duplicate", f"Already in the dataset as {existing}.", existing=existing)
        self.new_stems.setdefault(split_name(sanitize_filename(e.name))[0], split_name(existing)[0])
        if cap is not None and not captions.caption_path(self.dirs.media, existing).exists():
            try:
                captions.write(self.dirs.media, existing, _read_caption(cap), fsync=False)
                self.report.captions += 1
            except (OSError, limits.TooLarge) as exc:
                self.report.skip(cap, "unreadable", f"Could not read the caption ({exc}).")
            self.pending.append(existing)

    def _control(self, e: Entry, claimer: naming.Claimer) -> None:
        clean = sanitize_filename(e.name)
        name, _ = _place(e, self.dirs.control, claimer, _control_stem(split_name(clean)[0], self.new_stems), "image",
                         self.control_journal)
        self.report.controls.append(name)
        if name != clean:
            self.report.renamed.append({"from": e.path, "to": f"control/{name}"})

    def _flush(self) -> None:
        if self.pending:
            items.refresh(self.svc, self.dataset_id, list(self.pending), probed=self.probed, written=self.captions)
            self.pending.clear()
            self.probed.clear()
            self.captions.clear()


def run_import(svc, dataset_id: str, entries: list[Entry], slot: str, ctx) -> dict:
    result = ImportRun(svc, dataset_id, entries, slot, ctx).run()
    svc.bus.publish(storage.topic(dataset_id), "import_finished", {"job_id": ctx.id, **result})
    if result["imported"] or result["controls"]:
        thumbnails.submit_job(svc, dataset_id, quiet_if_busy=True)
    return result


def _control_stem(stem: str, new_stems: dict[str, str]) -> str:
    """A control named after a target that was renamed in this import follows the new name."""
    if stem in new_stems:
        return new_stems[stem]
    m = _CONTROL_SUFFIX.match(stem)
    if m and m.group(1) in new_stems:
        return f"{new_stems[m.group(1)]}_{m.group(2)}"
    return stem


# ---- jobs ----------------------------------------------------------------------------------

def _check_slot(ds: dict, slot: str) -> str:
    if slot not in ("media", "control"):
        raise ValidationError("slot must be 'media' or 'control'.", field="slot", code="bad_slot")
    if slot == "control" and ds["type"] != "image_control":
        raise ValidationError("Only image+control datasets have a control slot.", field="slot", code="no_control_slot")
    return slot


def _submit(svc, dataset_id: str, title: str, make_entries: Callable[[], list[Entry]], slot: str,
            params: dict, cleanup: Path | None = None) -> dict:
    def job(ctx):
        # Listed while it runs: an import the app did not live to finish is reconciled at start.
        recovery.import_started(svc, ctx.id, dataset_id)
        try:
            try:
                entries = make_entries()
            except OSError as exc:  # the folder or zip went away (or became unreadable) since the request
                raise JobError("import_source_unreadable", {"error": exc}) from exc
            return run_import(svc, dataset_id, entries, slot, ctx)
        finally:
            if cleanup is not None:
                shutil.rmtree(cleanup, ignore_errors=True)
            recovery.import_ended(svc, ctx.id)

    return svc.jobs.submit("dataset_import", title, job, params={"dataset_id": dataset_id, "slot": slot, **params},
                           owner=storage.topic(dataset_id))


def _local_path(raw, layout, dataset_id: str) -> Path:
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("Give the path of a folder or zip file on this computer.", field="path",
                              code="path_required")
    if "\0" in raw:
        raise ValidationError("That path contains a NUL character.", field="path", code="bad_path")
    path = Path(user_path(raw))
    if not path.is_absolute():
        raise ValidationError("Give a full path (starting at a drive or /).", field="path", code="path_not_absolute")
    path = path.resolve()
    ds_root = storage.dataset_dirs(layout, dataset_id).root.resolve()
    if path == ds_root or ds_root in path.parents or path in ds_root.parents:
        raise ValidationError("That folder is (or contains) this dataset's own folder.", field="path",
                              code="source_inside_dataset")
    if not path.exists():
        raise ValidationError(f"{path} does not exist.", field="path", code="path_not_found")
    return path


def submit_local(svc, dataset_id: str, source: str, raw_path, slot: str = "media") -> dict:
    ds = storage.row(svc, dataset_id)
    _check_slot(ds, slot)
    path = _local_path(raw_path, svc.layout, dataset_id)
    if source == "folder":
        if not path.is_dir():
            raise ValidationError(f"{path} is not a folder.", field="path", code="not_a_folder")
        return _submit(svc, dataset_id, f"Import {path.name}", lambda: folder_entries(path), slot,
                       {"source": "folder", "path": str(path)})
    if source == "zip":
        if not path.is_file() or not zipfile.is_zipfile(path):
            raise ValidationError(f"{path.name} is not a zip file.", field="path", code="bad_zip")
        with zipfile.ZipFile(path) as zf:  # a zip bomb is refused here, before the job starts
            for info in zf.infolist():
                check_zip_member(path.name, info)
            check_space(storage.dataset_dirs(svc.layout, dataset_id).ensure().media,
                        sum(i.file_size for i in zf.infolist()))
        return _submit(svc, dataset_id, f"Import {path.name}", lambda: zip_entries(path), slot,
                       {"source": "zip", "path": str(path)})
    raise ValidationError("source must be 'folder' or 'zip'.", field="source", code="bad_source")


def submit_upload(svc, dataset_id: str, upload_id: str, slot: str = "media") -> dict:
    ds = storage.row(svc, dataset_id)
    _check_slot(ds, slot)
    base = upload_dir(svc.layout, upload_id)
    if not base.is_dir():
        raise ValidationError("Nothing was uploaded under this id.", field="upload_id", code="bad_upload_id")
    return _submit(svc, dataset_id, "Import uploaded files", lambda: folder_entries(base, expand_zips=True), slot,
                   {"source": "upload", "upload_id": upload_id}, cleanup=base)


def add_controls(svc, dataset_id: str, item_row: dict, files: list[tuple[str, BinaryIO]]) -> dict:
    """Control images uploaded onto one item: named after the item (`stem.png`, then `stem_1.png`...)."""
    ds = storage.row(svc, dataset_id)
    _check_slot(ds, "control")
    dirs = storage.dataset_dirs(svc.layout, dataset_id).ensure()
    added, skipped = [], []
    with naming.Claimer(dirs.control, by_stem=False) as claimer, inflight.Journal(dirs.control) as journal:
        for raw_name, stream in files:
            name = sanitize_filename(raw_name)
            e = Entry(path=raw_name, parts=[name], open=lambda s=stream: _NoClose(s))
            if kind_of(name) != "image":
                skipped.append(_skip(e, "wrong_kind", "Control files must be images."))
                continue
            try:
                added.append(_place(e, dirs.control, claimer, item_row["stem"], "image", journal)[0])
            except probe.MediaError as exc:
                skipped.append(_skip(e, "corrupt", str(exc)))
    items.refresh(svc, dataset_id, [item_row["name"]])
    return {"added": added, "skipped": skipped}


class _NoClose:
    """Lets an upload stream be used in a `with` block without closing the request's stream."""

    def __init__(self, stream):
        self.stream = stream

    def read(self, *a):
        return self.stream.read(*a)

    def __enter__(self):
        return self.stream

    def __exit__(self, *exc):
        return False
