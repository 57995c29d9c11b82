"""Read a .safetensors header without loading any tensor (and without torch).

The format: 8 bytes little-endian u64 N, then N bytes of UTF-8 JSON mapping each tensor name to
{"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the byte after the header),
plus an optional "__metadata__" object of strings; the tensor data follows. Model files are many
gigabytes, so only the header is read; the data is checked by size (a partial download shows up as
a file shorter than the largest end offset).
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# safetensors' own reader refuses headers above 100 MB.
MAX_HEADER_BYTES = 100_000_000

DTYPE_BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E4M3": 8, "F8_E5M2": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "I64": 64, "U64": 64,
    "F64": 64, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}
FP8_DTYPES = frozenset(d for d in DTYPE_BITS if d.startswith("F8_"))


class SafetensorsError(Exception):
    """A file that cannot be read as safetensors. `code`: not_found, is_directory, unreadable, empty,
    not_safetensors, truncated, corrupt_header. `details` fill the UI's translation of the message
    (`models.detail.<detail_code>`: the code, or `code.kind` where one code has several messages)."""

    def __init__(self, code: str, message: str, details: dict | None = None, kind: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        self.detail_code = f"{code}.{kind}" if kind else code


@dataclass(frozen=True)
class TensorInfo:
    dtype: str
    shape: tuple[int, ...]
    start: int
    end: int


@dataclass
class Header:
    path: Path
    file_size: int
    header_size: int
    tensors: dict[str, TensorInfo]
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def tensor_count(self) -> int:
        return len(self.tensors)

    @property
    def data_size(self) -> int:
        return max((t.end for t in self.tensors.values()), default=0)

    def dtype_counts(self) -> dict[str, int]:
        return dict(Counter(t.dtype for t in self.tensors.values()).most_common())

    def dtype_bytes(self) -> dict[str, int]:
        out: Counter = Counter()
        for t in self.tensors.values():
            out[t.dtype] += t.end - t.start
        return dict(out.most_common())

    @property
    def main_dtype(self) -> str | None:
        """The dtype holding the most bytes (a bf16 model keeps a few f32 norms)."""
        sizes = self.dtype_bytes()
        return next(iter(sizes)) if sizes else None

    def has_fp8(self) -> bool:
        return any(t.dtype in FP8_DTYPES for t in self.tensors.values())

    def summary(self, metadata_limit: int = 20, value_limit: int = 200) -> dict:
        meta = {}
        for key in list(self.metadata)[:metadata_limit]:
            value = self.metadata[key]
            meta[key] = value if len(value) <= value_limit else value[:value_limit] + "…"
        return {
            "tensor_count": self.tensor_count,
            "main_dtype": self.main_dtype,
            "dtypes": self.dtype_counts(),
            "file_size": self.file_size,
            "data_size": self.data_size,
            "header_size": self.header_size,
            "metadata": meta,
            "metadata_count": len(self.metadata),
        }


def read_header(path: Path | str) -> Header:
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SafetensorsError("not_found", f"There is no file at {path}.", {"path": str(path)}) from None
    except OSError as exc:
        raise SafetensorsError("unreadable", f"{path} cannot be read: {exc.strerror or exc}.",
                               {"path": str(path), "error": str(exc.strerror or exc)}) from None
    if path.is_dir():
        raise SafetensorsError("is_directory", f"{path} is a folder; choose the .safetensors file inside it.",
                               {"path": str(path)})
    size = st.st_size
    if size == 0:
        raise SafetensorsError("empty", f"{path} is empty (0 bytes): the download or copy did not finish.",
                               {"path": str(path)})
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise SafetensorsError("not_safetensors", f"{path} is too short to be a safetensors file.",
                                       {"path": str(path)}, kind="short")
            (n,) = struct.unpack("<Q", head)
            first = f.read(1)
            if first != b"{" or n < 2 or n > MAX_HEADER_BYTES:
                raise SafetensorsError("not_safetensors",
                                       f"{path} is not a safetensors file (no safetensors header at the start).",
                                       {"path": str(path)})
            if 8 + n > size:
                raise SafetensorsError("truncated", f"{path} is cut short: its header alone needs {8 + n} bytes "
                                                    f"but the file has {size}. Download it again.",
                                       {"path": str(path), "needed": 8 + n, "size": size}, kind="header")
            raw = first + f.read(n - 1)
    except SafetensorsError:
        raise
    except OSError as exc:
        raise SafetensorsError("unreadable", f"{path} cannot be read: {exc.strerror or exc}.",
                               {"path": str(path), "error": str(exc.strerror or exc)}) from None
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SafetensorsError("corrupt_header", f"{path}: the safetensors header is damaged ({exc}).",
                               {"path": str(path), "error": str(exc)}) from None
    if not isinstance(parsed, dict):
        raise SafetensorsError("corrupt_header", f"{path}: the safetensors header is not a JSON object.",
                               {"path": str(path)}, kind="not_object")
    metadata = parsed.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise SafetensorsError("corrupt_header", f"{path}: __metadata__ must be an object.", {"path": str(path)},
                               kind="metadata")
    tensors: dict[str, TensorInfo] = {}
    for name, entry in parsed.items():
        tensors[name] = _tensor(path, name, entry)
    header = Header(path=path, file_size=size, header_size=n, tensors=tensors,
                    metadata={str(k): str(v) for k, v in metadata.items()})
    available = size - 8 - n
    if header.data_size > available:
        pct = 100 * available / header.data_size if header.data_size else 0
        raise SafetensorsError("truncated", f"{path} is incomplete: the header lists {header.data_size} bytes of "
                                            f"tensor data but only {available} are there ({pct:.0f}%). "
                                            "The download was interrupted; download it again.",
                               {"path": str(path), "listed": header.data_size, "available": available,
                                "pct": f"{pct:.0f}"})
    return header


def _tensor(path: Path, name: str, entry) -> TensorInfo:
    def bad(why: str):
        return SafetensorsError("corrupt_header", f"{path}: tensor '{name}' {why}.",
                                {"path": str(path), "name": name, "error": why}, kind="tensor")

    if not isinstance(entry, dict):
        raise bad("has no description")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str):
        raise bad("has no dtype")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise bad("has a bad shape")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(isinstance(o, int) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1]):
        raise bad("has bad data offsets")
    bits = DTYPE_BITS.get(dtype)
    if bits is not None:
        expected = math.ceil(math.prod(shape) * bits / 8)
        if offsets[1] - offsets[0] != expected:
            raise bad(f"takes {offsets[1] - offsets[0]} bytes but {dtype}{shape} needs {expected}")
    return TensorInfo(dtype, tuple(shape), offsets[0], offsets[1])


def write_file(path: Path | str, tensors: dict[str, tuple[str, list[int]]], metadata: dict | None = None,
               *, data_bytes: int | None = None) -> Path:
    """Write a valid safetensors file of zero bytes (tests, demos). `tensors`: name -> (dtype, shape).
    `data_bytes` < the real size makes a truncated file."""
    header: dict = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        nbytes = math.ceil(math.prod(shape) * DTYPE_BITS[dtype] / 8)
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    path = Path(path)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        size = offset if data_bytes is None else data_bytes
        if size:
            f.seek(size - 1, os.SEEK_CUR)
            f.write(b"\0")
    return path
