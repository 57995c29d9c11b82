"""The backends the app offers, by name. Adding a model = one module + one line in BACKENDS."""

from __future__ import annotations

from ..errors import ValidationError
from .base import Backend
from .config import build_options
from .musubi_qwen_vl import MusubiQwenVLBackend
from .openai_api import OpenAIApiBackend
from .wd14 import Wd14Backend

BACKENDS: dict[str, type[Backend]] = {cls.name: cls for cls in (Wd14Backend, OpenAIApiBackend, MusubiQwenVLBackend)}


def backend_class(name: str) -> type[Backend]:
    cls = BACKENDS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValidationError(f"Unknown tagging backend '{name}'.", field="backend", code="unknown_backend")
    return cls


def create(name: str, *, store=None, layout=None, options: dict | None = None) -> Backend:
    """A backend configured from saved settings with `options` on top (not loaded yet)."""
    cls = backend_class(name)
    return cls(build_options(cls.Options, store, options), layout=layout)
