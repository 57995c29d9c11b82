"""Tagger models from Hugging Face: where they live on disk and how they get there.

A model repo (e.g. `SmilingWolf/wd-vit-tagger-v3`) is stored in `<data>/models/taggers/<owner>/<name>/`.
Files come from `<endpoint>/<repo>/resolve/main/<file>` with plain urllib, so a mirror (or a local
test server) works by changing the endpoint setting. Each file is written to `<file>.part` and
renamed when complete, so an interrupted download never leaves a truncated model that looks whole.
"""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable

from .. import fileio
from ..paths import safe_join
from .base import TaggingError

WD14_FILES = ("model.onnx", "selected_tags.csv")
KNOWN_WD14_REPOS = (
    "SmilingWolf/wd-vit-tagger-v3",
    "SmilingWolf/wd-swinv2-tagger-v3",
    "SmilingWolf/wd-convnext-tagger-v3",
    "SmilingWolf/wd-vit-large-tagger-v3",
    "SmilingWolf/wd-eva02-large-tagger-v3",
    "SmilingWolf/wd-v1-4-moat-tagger-v2",
    "SmilingWolf/wd-v1-4-swinv2-tagger-v2",
    "SmilingWolf/wd-v1-4-convnext-tagger-v2",
    "SmilingWolf/wd-v1-4-convnextv2-tagger-v2",
    "SmilingWolf/wd-v1-4-vit-tagger-v2",
)
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
CHUNK = 1 << 20

# progress(done_bytes, total_bytes, message)
Progress = Callable[[int, int, str], None]


def check_repo_id(repo: str) -> str:
    repo = repo.strip() if isinstance(repo, str) else ""
    if not _REPO_ID.fullmatch(repo) or ".." in repo:
        raise TaggingError(f"'{repo}' is not a Hugging Face repo id like 'owner/name'.", code="bad_repo_id")
    return repo


def taggers_dir(models_root: Path) -> Path:
    return Path(models_root) / "taggers"


def repo_dir(models_root: Path, repo: str) -> Path:
    owner, name = check_repo_id(repo).split("/")
    return safe_join(taggers_dir(models_root), owner, name)


def has_files(folder: Path, files=WD14_FILES) -> bool:
    return all((Path(folder) / f).is_file() for f in files)


def downloaded_models(models_root: Path) -> list[dict]:
    """Every complete tagger folder under models/taggers, as {repo, path}."""
    root = taggers_dir(models_root)
    found = []
    if root.is_dir():
        for folder in sorted(p for p in root.glob("*/*") if p.is_dir()):
            if has_files(folder):
                found.append({"repo": f"{folder.parent.name}/{folder.name}", "path": str(folder)})
    return found


def file_url(endpoint: str, repo: str, filename: str) -> str:
    return f"{endpoint.rstrip('/')}/{check_repo_id(repo)}/resolve/main/{urllib.parse.quote(filename)}"


def download_repo(endpoint: str, repo: str, dest: Path, *, files=WD14_FILES, progress: Progress | None = None,
                  stop: threading.Event | None = None, timeout: float = 60) -> Path:
    """Fetch `files` of `repo` into `dest`, skipping files already there. Returns `dest`."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    todo = [f for f in files if not (dest / f).is_file()]
    sizes = {f: _remote_size(file_url(endpoint, repo, f), timeout) for f in todo}
    total = sum(s for s in sizes.values() if s)
    done = 0
    for filename in todo:
        def on_bytes(n: int, name=filename, base=done) -> None:
            if progress:
                progress(base + n, total, f"{repo}: {name}")
        done += _download_file(file_url(endpoint, repo, filename), dest / filename, on_bytes, stop, timeout)
    if progress:
        progress(total or done, total or done, repo)   # the message names what is downloaded: all of it
    return dest


def _remote_size(url: str, timeout: float) -> int:
    """Content-Length from a HEAD request (0 when the server does not say); follows HF's CDN redirects."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout) as resp:
            return int(resp.headers.get("Content-Length") or 0)
    except urllib.error.HTTPError as exc:
        raise _http_error(url, exc) from None
    except (urllib.error.URLError, OSError, ValueError):
        return 0  # the GET will report a real connection problem with a better message


def _download_file(url: str, target: Path, on_bytes: Callable[[int], None], stop: threading.Event | None,
                   timeout: float) -> int:
    part = target.with_name(target.name + ".part")
    got = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(part, "wb") as out:
            while chunk := resp.read(CHUNK):
                if stop is not None and stop.is_set():
                    raise TaggingError("The download was cancelled.", code="download_cancelled")
                out.write(chunk)
                got += len(chunk)
                on_bytes(got)
            expected = int(resp.headers.get("Content-Length") or 0)
        if expected and got != expected:
            raise TaggingError(f"{target.name} arrived incomplete ({got} of {expected} bytes).",
                               code="download_incomplete")
        fileio.replace(part, target)
        return got
    except urllib.error.HTTPError as exc:
        raise _http_error(url, exc) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TaggingError(f"Cannot download {url}: {reason}. Is this computer online?",
                           code="download_failed", status=502) from None
    finally:
        part.unlink(missing_ok=True)


def _http_error(url: str, exc: urllib.error.HTTPError) -> TaggingError:
    if exc.code in (401, 403, 404):
        return TaggingError(f"{url} was not found (HTTP {exc.code}): check the repo id; gated or private "
                            "repos cannot be downloaded here.", code="model_not_found", status=404)
    return TaggingError(f"Downloading {url} failed: HTTP {exc.code} {exc.reason}.", code="download_failed",
                        status=502)
