"""The safetensors header reader against files written byte by byte."""

from __future__ import annotations

import struct

import pytest

from server.models.safetensors_header import SafetensorsError, read_header, write_file
from tests.models.helpers import write_st


def test_reads_counts_dtypes_size_and_metadata(tmp_path):
    p = write_st(tmp_path / "m.safetensors",
                 {"a.weight": ("BF16", [64, 32]), "a.norm": ("F32", [64]), "b.weight": ("BF16", [16, 16])},
                 {"modelspec.title": "test", "format": "pt"})
    h = read_header(p)
    assert h.tensor_count == 3
    assert h.dtype_counts() == {"BF16": 2, "F32": 1}
    assert h.main_dtype == "BF16"
    assert h.data_size == 64 * 32 * 2 + 64 * 4 + 16 * 16 * 2
    assert h.file_size == p.stat().st_size
    s = h.summary()
    assert s["metadata"] == {"modelspec.title": "test", "format": "pt"}
    assert s["tensor_count"] == 3 and s["main_dtype"] == "BF16"
    assert not h.has_fp8()


def test_fp8_detected(tmp_path):
    h = read_header(write_st(tmp_path / "f.safetensors", {"w": ("F8_E4M3", [4, 4]), "s": ("F32", [1])}))
    assert h.has_fp8()


@pytest.mark.parametrize("make,code", [
    (lambda p: None, "not_found"),
    (lambda p: p.mkdir(), "is_directory"),
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_bytes(b"PK\x03\x04 this is a zip file, not safetensors at all"), "not_safetensors"),
    (lambda p: p.write_text("just some text in a file with a safetensors name"), "not_safetensors"),
    (lambda p: p.write_bytes(b"\x01\x02"), "not_safetensors"),
])
def test_clear_errors_for_wrong_files(tmp_path, make, code):
    p = tmp_path / "x.safetensors"
    make(p)
    with pytest.raises(SafetensorsError) as exc:
        read_header(p)
    assert exc.value.code == code
    assert str(p) in exc.value.message


def test_truncated_data_is_a_partial_download(tmp_path):
    p = write_st(tmp_path / "t.safetensors", {"w": ("BF16", [128, 128])}, cut=1000)
    with pytest.raises(SafetensorsError) as exc:
        read_header(p)
    assert exc.value.code == "truncated"
    assert "download" in exc.value.message.lower()


def test_truncated_header(tmp_path):
    p = tmp_path / "h.safetensors"
    p.write_bytes(struct.pack("<Q", 5000) + b'{"w": {"dtype": "BF16"')
    with pytest.raises(SafetensorsError) as exc:
        read_header(p)
    assert exc.value.code == "truncated"


@pytest.mark.parametrize("raw", [
    b'{"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}',      # JSON cut inside the declared length
    b'{"w": {"dtype": "BF16", "shape": [2], "data_offsets": [4, 0]}}',     # offsets backwards
    b'{"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 6]}}',     # size does not match shape
    b'{"w": {"shape": [2], "data_offsets": [0, 4]}}',                      # no dtype
    b'{"w": "nonsense"}',
    b'{"__metadata__": [1, 2]}',
])
def test_corrupt_header(tmp_path, raw):
    p = tmp_path / "c.safetensors"
    p.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * 16)
    with pytest.raises(SafetensorsError) as exc:
        read_header(p)
    assert exc.value.code == "corrupt_header"


def test_writer_round_trip(tmp_path):
    p = write_file(tmp_path / "w.safetensors", {"x": ("BF16", [3, 5]), "y": ("F8_E4M3", [7])}, {"k": "v"})
    h = read_header(p)
    assert h.tensor_count == 2 and h.metadata == {"k": "v"} and h.data_size == 3 * 5 * 2 + 7
