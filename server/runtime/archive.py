"""musubi-tuner without git: download the pinned commit as a zip archive and unpack it safely.

- `archive_url(template, commit)`: the setting `musubi_archive_url` with `{commit}` (or `<commit>`) filled in.
- `download(url, dest, write, check)`: streams the file to `dest` with byte progress written to the job log
  (`write(text)`, redrawn with `\\r`); `check()` is called between chunks (it raises to cancel).
- `extract(zip_path, target)`: unpacks into `target`; no member may leave it (absolute paths, drive letters,
  `..`, links are refused before anything is written) and the single top-level folder GitHub puts around
  the files (`musubi-tuner-<commit>/`) is stripped.
- `write_marker` / `read_marker`: an unpacked copy has no .git, so the commit it came from is kept in
  MARKER (JSON) for detection to compare with the pin.
"""

from __future__ import annotations

import json
import shutil
import stat
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from . import procs

MARKER = ".lora-workbench-source.json"
CHUNK = 256 * 1024
MAX_UNPACKED = 4 * 1024 ** 3      # musubi-tuner is a few MB; anything near this is not it
TIMEOUT = 60


class ArchiveError(RuntimeError):
    pass


def archive_url(template: str, commit: str) -> str:
    return template.replace("{commit}", commit).replace("<commit>", commit)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def download(url: str, dest: Path, write, check) -> int:
    """Download `url` to `dest`; returns the byte count. Errors are ArchiveError with a readable message."""
    shown = procs.redact(url)
    req = urllib.request.Request(url, headers={"User-Agent": "LoRA-Workbench"})
    try:
        resp = urllib.request.urlopen(req, timeout=TIMEOUT)  # an http(s)/file URL from the settings
    except urllib.error.HTTPError as exc:
        raise ArchiveError(f"Download of {shown} failed: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ArchiveError(f"Could not download {shown}: {reason}") from None
    total = resp.headers.get("Content-Length")
    total = int(total) if total and total.isdigit() else None
    done, last = 0, 0.0
    read = resp.read1 if hasattr(resp, "read1") else resp.read
    with resp, open(dest, "wb") as out:
        while True:
            check()
            try:
                chunk = read(CHUNK)
            except (OSError, ValueError) as exc:
                raise ArchiveError(f"Download of {shown} was interrupted: {exc}") from None
            if not chunk:
                break
            out.write(chunk)
            done += len(chunk)
            now = time.monotonic()
            if now - last >= 0.5:
                last = now
                write(_progress(done, total))
    write(_progress(done, total) + "\n")
    if total is not None and done != total:
        raise ArchiveError(f"Download of {shown} stopped at {_mb(done)} of {_mb(total)}.")
    return done


def _progress(done: int, total: int | None) -> str:
    if total:
        return f"\rDownloaded {_mb(done)} of {_mb(total)} ({done * 100 // total}%)"
    return f"\rDownloaded {_mb(done)}"


def _member_parts(name: str) -> tuple[str, ...]:
    """The path parts of a zip member; ArchiveError when it could land outside the target."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":") or "\x00" in norm:
        raise ArchiveError(f"The archive holds an unsafe path: {name!r}")
    parts = tuple(p for p in PurePosixPath(norm).parts if p not in ("", "."))
    if any(p == ".." or ":" in p for p in parts):
        raise ArchiveError(f"The archive holds an unsafe path: {name!r}")
    return parts


def extract(zip_path: Path, target: Path, check=lambda: None) -> int:
    """Unpack `zip_path` into the (new or empty) folder `target`; returns the number of files."""
    target = Path(target)
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(f"The downloaded file is not a zip archive ({exc}).") from None
    with zf:
        entries = []
        size = 0
        for info in zf.infolist():
            parts = _member_parts(info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise ArchiveError(f"The archive holds a link, which is not unpacked: {info.filename!r}")
            if parts:
                entries.append((info, parts))
                size += info.file_size
        if size > MAX_UNPACKED:
            raise ArchiveError(f"The archive would unpack to {_mb(size)}; that is not musubi-tuner.")
        tops = {parts[0] for _, parts in entries}
        strip = len(tops) == 1 and any(len(p) > 1 or i.is_dir() for i, p in entries)
        root = target.resolve()
        target.mkdir(parents=True, exist_ok=True)
        files = 0
        for info, parts in entries:
            if strip:
                parts = parts[1:]
                if not parts:
                    continue
            dest = target.joinpath(*parts)
            # belt and braces: the resolved path must stay inside the target
            if root not in dest.resolve().parents:
                raise ArchiveError(f"The archive holds an unsafe path: {info.filename!r}")
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            check()
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
            mode = (info.external_attr >> 16) & 0o777
            if mode & 0o111:
                try:
                    dest.chmod(dest.stat().st_mode | 0o111)
                except OSError:
                    pass
            files += 1
    return files


def write_marker(musubi_dir: Path, commit: str, url: str) -> None:
    data = {"commit": commit, "source": procs.redact(url), "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    (Path(musubi_dir) / MARKER).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def read_marker(musubi_dir: Path) -> dict | None:
    try:
        data = json.loads((Path(musubi_dir) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("commit"), str) else None
