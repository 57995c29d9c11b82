"""Model file checks: known mistakes per architecture and role."""

from __future__ import annotations

from server.models.checks import check_file
from tests.ui.test_i18n_tables import tables  # noqa: F401 - the i18n tables as Vite loads them
from tests.models.helpers import qwen_dit, qwen_vae, write_st


def codes(result):
    return [p["code"] for p in result["problems"]]


def test_good_qwen_dit(tmp_path):
    r = check_file(str(qwen_dit(tmp_path / "qwen_image_bf16.safetensors")), "qwen-image-lora", "dit")
    assert r["status"] == "ok", r
    assert r["format"] == "safetensors"
    assert r["summary"]["tensor_count"] == 6 and r["summary"]["main_dtype"] == "BF16"


def test_fp8_scaled_qwen_dit_is_refused(tmp_path):
    p = qwen_dit(tmp_path / "qwen_image_fp8_e4m3fn_scaled.safetensors", fp8_scaled=True)
    for task_type in ("qwen-image-lora", "qwen-image-edit-lora"):
        r = check_file(str(p), task_type, "dit")
        assert r["status"] == "error"
        assert codes(r) == ["qwen_fp8_dit"]
        assert "fp8_scaled" in r["problems"][0]["message"]


def test_plain_fp8_qwen_dit_is_refused(tmp_path):
    r = check_file(str(qwen_dit(tmp_path / "e4m3fn.safetensors", fp8=True)), "qwen-image-edit-lora", "dit")
    assert codes(r) == ["qwen_fp8_dit"] and "F8_E4M3" in r["problems"][0]["message"]


def test_fp8_dit_of_other_architectures_is_a_warning(tmp_path):
    p = write_st(tmp_path / "wan_fp8.safetensors", {"blocks.0.cross_attn.k.weight": ("F8_E4M3", [8, 8])})
    r = check_file(str(p), "wan2.1-lora", "dit")
    assert r["status"] == "warning" and codes(r) == ["fp8_dit"]
    # ...and not a DiT problem at all for a text encoder
    assert check_file(str(p), "wan2.1-lora", "t5")["status"] == "ok"


def test_qwen_vae_layouts(tmp_path):
    ok = check_file(str(qwen_vae(tmp_path / "diffusers.safetensors")), "qwen-image-lora", "vae")
    assert ok["status"] == "ok" and ok["problems"] == []
    comfy = check_file(str(qwen_vae(tmp_path / "qwen_image_vae.safetensors", layout="comfyui")), "qwen-image-lora", "vae")
    assert codes(comfy) == ["qwen_vae_comfyui"] and comfy["problems"][0]["severity"] == "info"
    assert "diffusion_pytorch_model.safetensors" in comfy["problems"][0]["message"]
    layered = check_file(str(qwen_vae(tmp_path / "layered.safetensors", channels=4)), "qwen-image-edit-lora", "vae")
    assert layered["status"] == "error" and codes(layered) == ["qwen_vae_layered"]
    other = check_file(str(qwen_vae(tmp_path / "flux_ae.safetensors", layout="other")), "qwen-image-lora", "vae")
    assert other["status"] == "error" and codes(other) == ["qwen_vae_unknown_layout"]


def test_lora_in_a_model_slot(tmp_path):
    p = write_st(tmp_path / "my_lora.safetensors", {"lora_unet_blocks_0.lora_down.weight": ("BF16", [4, 8]),
                                                   "lora_unet_blocks_0.lora_up.weight": ("BF16", [8, 4])})
    r = check_file(str(p), "zimage-lora", "dit")
    assert r["status"] == "error" and codes(r) == ["is_lora"]


def test_pth_files(tmp_path):
    p = tmp_path / "models_t5_umt5-xxl-enc-bf16.pth"
    p.write_bytes(b"PK\x03\x04pickle")
    wan = check_file(str(p), "wan2.1-lora", "t5")
    assert wan["status"] == "ok" and wan["format"] == "pickle" and codes(wan) == ["not_inspected"]
    qwen = check_file(str(p), "qwen-image-lora", "text_encoder")
    assert qwen["status"] == "error" and codes(qwen) == ["needs_safetensors"]


def test_path_problems(tmp_path):
    assert check_file("", "qwen-image-lora", "dit")["status"] == "empty"
    assert codes(check_file("models/x.safetensors", "qwen-image-lora", "dit")) == ["not_absolute"]
    missing = check_file(str(tmp_path / "nope.safetensors"), "qwen-image-lora", "dit")
    assert missing["status"] == "error" and codes(missing) == ["not_found"]
    cut = write_st(tmp_path / "cut.safetensors", {"w": ("BF16", [64, 64])}, cut=100)
    assert codes(check_file(str(cut), "qwen-image-lora", "dit")) == ["truncated"]


def test_hunyuan_video_files_as_musubi_documents_them(tmp_path):
    """docs/hunyuan_video.md: DiT mp_rank_00_model_states.pt, VAE pytorch_model.pt, text encoders as folders."""
    for role, name in (("dit", "mp_rank_00_model_states.pt"), ("vae", "pytorch_model.pt")):
        p = tmp_path / name
        p.write_bytes(b"PK\x03\x04pickle")
        r = check_file(str(p), "hunyuan-video-lora", role)
        assert r["status"] == "ok" and r["format"] == "pickle" and codes(r) == ["not_inspected"], role
    folder = tmp_path / "text_encoder"
    folder.mkdir()
    r = check_file(str(folder), "hunyuan-video-lora", "text_encoder1")
    assert r["status"] == "ok" and r["format"] == "folder" and codes(r) == ["folder_not_inspected"]
    # A .pt where musubi's docs name none, and a folder where a file is needed, stay errors.
    assert codes(check_file(str(tmp_path / "pytorch_model.pt"), "hunyuan-video-lora", "text_encoder1")) == [
        "needs_safetensors"]
    assert codes(check_file(str(folder), "kontext-lora", "text_encoder1")) == ["is_directory"]
    assert codes(check_file(str(tmp_path / "pytorch_model.pt"), "wan2.1-lora", "vae")) == ["needs_safetensors"]
    fp8 = write_st(tmp_path / "mp_rank_00_model_states_fp8.safetensors",
                   {"double_blocks.0.img_attn_qkv.weight": ("F8_E4M3", [8, 8])})
    r = check_file(str(fp8), "hunyuan-video-lora", "dit")
    assert r["status"] == "ok" and codes(r) == ["fp8_dit_fp8_base"]


def test_every_problem_code_has_a_headline_in_both_languages(tables):  # noqa: F811
    """ui/src/lib/i18n/runtime.js `models.problem.<code>` for every code checks.py and the header reader use."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    source = "".join((root / "server" / "models" / f).read_text(encoding="utf-8")
                     for f in ("checks.py", "safetensors_header.py"))
    codes = set(re.findall(r'_problem\(\s*"([a-z0-9_]+)"', source))
    codes |= set(re.findall(r'SafetensorsError\("([a-z0-9_]+)"', source))
    assert {"folder_not_inspected", "fp8_dit_fp8_base", "truncated"} <= codes
    table = tables[str(root / "ui" / "src" / "lib" / "i18n" / "runtime.js")]
    for lang in ("en", "zh-CN"):
        assert sorted(c for c in codes if f"models.problem.{c}" not in table[lang]) == [], lang


def test_a_dit_musubi_cannot_read_the_precision_of_is_the_wrong_model(tmp_path):
    """wan detect_wan_sd_dtype / detect_hunyuan_video_1_5_sd_dtype raise without their key tensors."""
    qwen = check_file(str(qwen_dit(tmp_path / "qwen.safetensors")), "hunyuan-video-1.5-lora", "dit")
    assert codes(qwen) == ["dit_wrong_model"] and qwen["status"] == "error"
    assert codes(check_file(str(qwen_dit(tmp_path / "qwen.safetensors")), "wan2.1-lora", "dit")) == ["dit_wrong_model"]
    tencent = write_st(tmp_path / "hv15.safetensors", {"double_blocks.0.img_attn_k.weight": ("BF16", [8, 8])})
    assert check_file(str(tencent), "hunyuan-video-1.5-lora", "dit")["status"] == "ok"
    comfy = write_st(tmp_path / "hunyuanvideo1.5_720p_t2v_fp16.safetensors",
                     {"double_blocks.0.img_attn_qkv.weight": ("F16", [8, 8]), "final_layer.linear.bias": ("F16", [8])})
    r = check_file(str(comfy), "hunyuan-video-1.5-lora", "dit")
    assert codes(r) == ["fp16_dit_repackaged"] and r["status"] == "warning"
    # the same fp16 file is no concern for Wan, whose trainer matches its precision (commands._match_dit_dtype)
    wan16 = write_st(tmp_path / "wan16.safetensors", {"blocks.0.cross_attn.k.weight": ("F16", [8, 8])})
    assert check_file(str(wan16), "wan2.1-lora", "dit")["status"] == "ok"


def test_qwen_image_layered_needs_its_rgba_vae(tmp_path):
    layered = qwen_vae(tmp_path / "qwen_image_layered_vae.safetensors", channels=4)
    normal = qwen_vae(tmp_path / "qwen_image_vae.safetensors")
    assert check_file(str(layered), "qwen-image-layered-lora", "vae")["status"] == "ok"
    r = check_file(str(normal), "qwen-image-layered-lora", "vae")
    assert codes(r) == ["qwen_vae_not_layered"] and r["status"] == "error"
    # and the other way round, as before
    assert codes(check_file(str(layered), "qwen-image-lora", "vae")) == ["qwen_vae_layered"]
    fp8 = qwen_dit(tmp_path / "qwen_image_layered_fp8mixed.safetensors", fp8=True)
    assert codes(check_file(str(fp8), "qwen-image-layered-lora", "dit")) == ["qwen_fp8_dit"]
