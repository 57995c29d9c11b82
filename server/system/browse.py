"""The folder browser on the server: the files a browser may pick (a model, a folder, the trainer's
python) and download, limited to configured roots.

Used where there is no native dialog: a plain browser (headless mode) and server mode, where the
machine running the app is not the one in front of the user. Roots are the `browse_roots` setting;
empty means the data folder and the user's home. A path is accepted only when, with every symlink
and `..` resolved, it is one of the roots or inside one: a link inside a root that points out, a
relative or drive-relative path (`C:x`), another drive or a UNC share (`\\\\host\\share`) are refused
with 403 `path_outside_roots`.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import settings
from ..errors import ApiError, ValidationError
from ..paths import user_path

MAX_ENTRIES = 5000
MODEL_SUFFIXES = (".safetensors", ".pth", ".pt", ".ckpt", ".bin", ".gguf")
KINDS = ("any", "folder", "model")

# Absolute folders the in-page folder browser may show; [] = the data folder and the user's home.
settings.register(settings.Setting("browse_roots", "paths", [], max_len=20, group="general", label_key="sv.roots",
                                   help_key="sv.roots.help"))


def roots(layout, store) -> list[Path]:
    configured = store.get_setting("browse_roots", None) or []
    candidates = [Path(p) for p in configured] if configured else [layout.root, Path.home()]
    out: list[Path] = []
    for path in candidates:
        try:
            real = path.resolve()
        except (OSError, RuntimeError):
            continue
        if real.is_dir() and real not in out:
            out.append(real)
    return out


def outside(path: str) -> ApiError:
    return ApiError("That path is outside the folders this server lets you browse (Settings > Folder browser).",
                    code="path_outside_roots", status=403, details={"path": path})


def inside_roots(all_roots: list[Path], raw) -> tuple[Path, Path]:
    """(resolved path, its root) for a path the browser sent, or 403 path_outside_roots."""
    if not isinstance(raw, str):
        raise ValidationError("path must be text.", field="path")
    text = user_path(raw)
    if not text or "\0" in text or not os.path.isabs(text):
        raise outside(str(raw))
    try:
        real = Path(text).resolve()
    except (OSError, RuntimeError, ValueError):
        raise outside(text) from None
    for root in all_roots:
        if real == root or root in real.parents:
            return real, root
    raise outside(text)


def _is_inside(all_roots: list[Path], path: Path) -> bool:
    try:
        real = path.resolve()
    except (OSError, RuntimeError):
        return False
    return any(real == r or r in real.parents for r in all_roots)


def listing(all_roots: list[Path], raw: str, kind: str = "any", hidden: bool = False) -> dict:
    if kind not in KINDS:
        raise ValidationError(f"kind must be one of {', '.join(KINDS)}.", field="kind")
    folder, root = inside_roots(all_roots, raw)
    if not folder.is_dir():
        raise ApiError("That is not a folder.", code="not_a_folder", status=422, details={"path": str(folder)})
    entries = []
    truncated = False
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if not hidden and entry.name.startswith("."):
                    continue
                path = Path(entry.path)
                try:
                    is_dir = entry.is_dir()
                    st = entry.stat()
                except OSError:
                    continue  # a broken link or a file we may not read: nothing to pick
                if entry.is_symlink() and not _is_inside(all_roots, path):
                    continue  # a link out of the roots would be refused when picked: not offered
                if not is_dir and (kind == "folder" or (kind == "model" and not entry.name.lower().endswith(MODEL_SUFFIXES))):
                    continue
                if len(entries) >= MAX_ENTRIES:
                    truncated = True
                    break
                entries.append({"name": entry.name, "path": str(path), "dir": is_dir,
                                "size": None if is_dir else st.st_size, "mtime": st.st_mtime})
    except PermissionError:
        raise ApiError("This folder cannot be read.", code="folder_unreadable", status=403,
                       details={"path": str(folder)}) from None
    entries.sort(key=lambda e: (not e["dir"], e["name"].casefold()))
    return {"path": str(folder), "root": str(root), "parent": None if folder == root else str(folder.parent),
            "entries": entries, "truncated": truncated}
