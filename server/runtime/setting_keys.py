"""The trainer environment's settings: where musubi-tuner and its python are, and where setup gets them.

server/training/musubi_env.py resolves an empty musubi_dir / musubi_python to <program>/musubi-tuner and its
.venv python; server/runtime/setup.py reads the rest.
"""

from __future__ import annotations

import os

from ..settings import Setting, register
from .driver import CHOICES as TORCH_BUILDS


def _repo_url(value):
    """Where setup clones musubi-tuner from: an http(s)/ssh/file URL or an absolute local path (a mirror)."""
    if not value.strip():
        raise ValueError("must be a git URL")
    value = value.strip()
    if not (value.startswith(("https://", "http://", "ssh://", "git@", "file://")) or os.path.isabs(value)):
        raise ValueError("must be an https://, ssh:// or file:// URL or a local folder")
    return value


def _archive_url(value):
    """Where setup downloads musubi-tuner's zip from when git is missing: an http(s):// or file:// URL;
    {commit} (or <commit>) is replaced by the pinned commit."""
    if not value.strip():
        raise ValueError("must be an http(s):// address of a zip archive")
    value = value.strip()
    if not value.lower().startswith(("https://", "http://", "file://")):
        raise ValueError("must be an http:// or https:// address (or file://)")
    return value


def _url_or_empty(value):
    value = value.strip().rstrip("/")
    if value and not value.lower().startswith(("http://", "https://", "file://")):
        raise ValueError("must be an http:// or https:// address (or empty)")
    return value


# "trainer": TrainerEnvironment.svelte's own fields (a save starts a new check of the environment);
# "trainer.advanced": its "download sources" fields. Both drawn from the schema (SettingField.svelte).
GROUP, ADVANCED = "trainer", "trainer.advanced"


def _adv(key, type_, default, validate=None, **kw):
    return Setting(key, type_, default, validate, group=ADVANCED, label_key=f"rt.adv.{key}",
                   help_key=f"rt.adv.{key}.help", **kw)


register(
    # `pick`: what the field's browse button picks (lib/runtime.js pickPath).
    Setting("musubi_dir", "path", "", group=GROUP, label_key="rt.musubiDir", extra={"pick": "folder"}),
    Setting("musubi_python", "path", "", group=GROUP, label_key="rt.python", extra={"pick": "python"}),
    _adv("musubi_repo_url", "url", "https://github.com/kohya-ss/musubi-tuner.git", _repo_url),
    # Setup / update without git download this zip; {commit} is replaced by the pinned commit.
    _adv("musubi_archive_url", "url", "https://github.com/kohya-ss/musubi-tuner/archive/{commit}.zip", _archive_url),
    # torch build for setup: "auto" follows the NVIDIA driver, "cpu" is the CPU-only build (driver.py).
    Setting("musubi_cuda_extra", "choice", "auto", choices=tuple(TORCH_BUILDS), group=GROUP, label_key="rt.torchBuild",
            choice_key="rt.torchBuild."),
    # Where setup takes torch from: "pytorch" = the PyTorch index below for the chosen CUDA build; "pypi" = the
    # plain package index (the PyPI mirror below, or pip's own configuration): CPU-only on Windows, where PyPI
    # has no CUDA builds of torch (driver.torch_build says so on the Settings page).
    _adv("musubi_torch_source", "choice", "pytorch", choices=("pytorch", "pypi"), choice_key="rt.torchSource."),
    # torch wheels come from <this>/<cuXXX>; musubi's pyproject names these indexes for uv only, pip needs them.
    _adv("musubi_torch_index_url", "url", "https://download.pytorch.org/whl", _url_or_empty),
    # A PyPI mirror for everything else ("" = pip's default), e.g. https://pypi.tuna.tsinghua.edu.cn/simple.
    _adv("musubi_pip_index_url", "url", "", _url_or_empty),
    # A folder of wheels to install from instead of any index (offline machines): pip --no-index --find-links.
    _adv("musubi_find_links", "path", ""),
)
