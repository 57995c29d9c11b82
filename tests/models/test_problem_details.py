"""A model file's problem line reaches a Chinese screen in Chinese (issue 13, item 6): each problem carries
`details` and a `detail_code`, translated as models.detail.<detail_code> (ui/src/lib/i18n/runtime.js). Real
broken files make the problems; every placeholder a translation uses must be in the problem's details."""

from __future__ import annotations

import re
from pathlib import Path

from server.models.checks import check_file
from tests.models.helpers import qwen_dit, qwen_vae, write_st
from tests.ui.test_i18n_tables import merged, tables  # noqa: F401 - the i18n tables as Vite loads them

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def broken_files(tmp: Path) -> list[tuple[str, str, str]]:
    """(path, task type, role) of files that make every kind of problem message."""
    dit = lambda name, **kw: str(qwen_dit(tmp / name, **kw))  # noqa: E731
    (tmp / "folder.safetensors").mkdir()
    (tmp / "empty.safetensors").write_bytes(b"")
    (tmp / "short.safetensors").write_bytes(b"abc")
    (tmp / "html.safetensors").write_bytes(b"<html>not a model</html>")
    (tmp / "x.pth").write_bytes(b"PK\x03\x04pickle")
    return [
        (str(tmp / "nope.safetensors"), "qwen-image-lora", "dit"),
        ("models/x.safetensors", "qwen-image-lora", "dit"),
        (str(tmp / "a\x00b"), "qwen-image-lora", "dit"),
        (str(tmp / "folder.safetensors"), "qwen-image-lora", "dit"),
        (str(tmp / "empty.safetensors"), "qwen-image-lora", "dit"),
        (str(tmp / "short.safetensors"), "qwen-image-lora", "dit"),
        (str(tmp / "html.safetensors"), "qwen-image-lora", "dit"),
        (str(tmp / "x.pth"), "qwen-image-lora", "text_encoder"),
        (str(tmp / "x.pth"), "wan2.1-lora", "t5"),
        (str(write_st(tmp / "cut.safetensors", {"w": ("BF16", [64, 64])}, cut=100)), "qwen-image-lora", "dit"),
        (str(write_st(tmp / "hdr.safetensors", {"w": ("BF16", [4])}, declared_len=4000)), "qwen-image-lora", "dit"),
        (str(write_st(tmp / "json.safetensors", {}, raw_header=b"{nope")), "qwen-image-lora", "dit"),
        (str(write_st(tmp / "tensor.safetensors", {}, raw_header=b'{"w": {"dtype": "F16"}}')), "qwen-image-lora", "dit"),
        (str(write_st(tmp / "none.safetensors", {})), "qwen-image-lora", "dit"),
        (dit("fp8.safetensors", fp8_scaled=True), "qwen-image-lora", "dit"),
        (dit("hv.safetensors"), "hunyuan-video-1.5-lora", "dit"),
        (str(qwen_vae(tmp / "comfy_vae.safetensors", layout="comfyui")), "qwen-image-lora", "vae"),
        (str(qwen_vae(tmp / "other_vae.safetensors", layout="other")), "qwen-image-lora", "vae"),
        (str(write_st(tmp / "lora.safetensors", {"a.lora_down.weight": ("BF16", [4, 8])})), "zimage-lora", "dit"),
        (str(write_st(tmp / "wan8.safetensors", {"blocks.0.cross_attn.k.weight": ("F8_E4M3", [8, 8])})),
         "wan2.1-lora", "dit"),
        (str(write_st(tmp / "ideo.safetensors", {"w": ("BF16", [4])}, {"model_type": "other"})), "ideogram4-lora",
         "dit"),
        (dit("hidream.safetensors"), "hidream-o1-lora", "dit"),
    ]


def test_every_problem_line_is_translated_from_its_details(tables, tmp_path):  # noqa: F811
    keys = merged(tables)
    seen = set()
    for path, task_type, role in broken_files(tmp_path):
        for p in check_file(path, task_type, role)["problems"]:
            seen.add(p["detail_code"])
            for locale in keys:
                text = keys[locale].get(f"models.detail.{p['detail_code']}")
                assert text is not None, (locale, p)
                missing = set(PLACEHOLDER.findall(text)) - set(p["details"])
                assert not missing, (locale, p["detail_code"], missing)
            assert re.search(r"[\u4e00-\u9fff]", keys["zh-CN"][f"models.detail.{p['detail_code']}"])
    # the files above reach every kind of message, so a new one without a translation shows up here
    assert {"not_found", "not_absolute", "bad_path", "is_directory", "empty", "not_safetensors", "not_safetensors.short",
            "truncated", "truncated.header", "corrupt_header", "corrupt_header.tensor", "no_tensors", "qwen_fp8_dit",
            "dit_wrong_model", "qwen_vae_comfyui", "qwen_vae_unknown_layout", "is_lora", "fp8_dit", "not_inspected",
            "needs_safetensors", "model_metadata_mismatch.documented"} <= seen, seen


def test_every_problem_code_has_a_detail_line(tables):  # noqa: F811
    """The static side: each code checks.py and the header reader write has models.detail.<code> (the kinds
    of one code, `<code>.<kind>`, are reached by the files of the test above)."""
    source = "".join((ROOT / "server" / "models" / f).read_text(encoding="utf-8")
                     for f in ("checks.py", "safetensors_header.py"))
    codes = set(re.findall(r'_problem\(\s*"([a-z0-9_]+)"', source))
    codes |= set(re.findall(r'SafetensorsError\("([a-z0-9_]+)"', source))
    keys = merged(tables)
    for locale in keys:
        assert sorted(c for c in codes if f"models.detail.{c}" not in keys[locale]) == [], locale
