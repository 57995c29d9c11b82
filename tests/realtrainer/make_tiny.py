"""Tiny random-weight models and tokenizers for the real musubi-tuner, made with musubi's own classes.

Run with the TRAINER's Python, with tests/realtrainer/tiny on PYTHONPATH and LW_TINY_MUSUBI=1 (so the
sizes are the shrunk ones of tiny/sitecustomize.py):  python make_tiny.py <out>
Writes <out>/models/*.safetensors and <out>/hf/hub/models--ORG--NAME/{refs/main, snapshots/<rev>/...}: a
Hugging Face cache holding tokenizers trained here with the `tokenizers` library, in the layout
huggingface_hub reads offline.
"""

import hashlib
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from sitecustomize import TINY

# ids stay below the tiny text encoders' vocab_size (tiny/sitecustomize.py)
VOCAB = 600
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Qwen2.5-VL's image tokens, numbered 3.. in this order: the tiny VL config's *_token_id (tiny/sitecustomize.py)
# must name the same ids, or the processor's <|image_pad|> run never meets the vision tower's features
VISION_SPECIAL = ["<|vision_start|>", "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]
CORPUS = ["a red square on blue", "a green circle", "a photo of sks", "tiny test image", "the quick brown fox",
          "一只猫", "a cat sitting on a chair", "blue sky over hills"] * 20
QWEN_CHAT_TEMPLATE = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
                      "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def randomise(model: torch.nn.Module, seed: int) -> None:
    """Every weight random (zero-initialised heads would make every LoRA gradient zero); norms at one."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1 and "norm" in name.lower() and name.endswith("weight"):
                p.fill_(1.0)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)


def save(model: torch.nn.Module, path: Path, dtype, drop=()) -> None:
    sd = {k: v.detach().to(dtype).contiguous().clone() for k, v in model.state_dict().items() if k not in drop}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(sd, str(path))


def hf_snapshot(hf_home: Path, repo: str, files: dict[str, str | bytes]) -> None:
    """huggingface_hub's cache layout: refs/main names the snapshot folder that holds the files."""
    rev = hashlib.sha1(repo.encode()).hexdigest()
    base = hf_home / "hub" / f"models--{repo.replace('/', '--')}"
    (base / "refs").mkdir(parents=True, exist_ok=True)
    (base / "refs" / "main").write_text(rev, encoding="utf-8")
    for rel, data in files.items():
        target = base / "snapshots" / rev / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


def qwen_tokenizer_files(prefix: str, work: Path, special: list[str] = SPECIAL, corpus: list[str] = CORPUS) -> dict:
    """A byte-level BPE tokenizer in Qwen2Tokenizer's files (vocab.json, merges.txt, tokenizer_config.json),
    trained on `corpus`; the special tokens get ids 0.. in the order given."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer)
    work.mkdir(parents=True, exist_ok=True)
    tok.model.save(str(work))
    vocab = json.loads((work / "vocab.json").read_text(encoding="utf-8"))
    added = {str(vocab[t]): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                             "single_word": False, "special": True} for t in special}
    config = {"tokenizer_class": "Qwen2Tokenizer", "added_tokens_decoder": added, "bos_token": None,
              "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "unk_token": None,
              "model_max_length": 131072, "chat_template": QWEN_CHAT_TEMPLATE, "clean_up_tokenization_spaces": False}
    return {f"{prefix}vocab.json": (work / "vocab.json").read_bytes(),
            f"{prefix}merges.txt": (work / "merges.txt").read_bytes(),
            f"{prefix}tokenizer_config.json": json.dumps(config, indent=1)}


def zimage(out: Path) -> None:
    from musubi_tuner.zimage import zimage_autoencoder, zimage_config, zimage_model, zimage_utils
    from transformers import Qwen3ForCausalLM

    dit = zimage_model.create_model("torch", False, None)
    dit = dit.to_empty(device="cpu")
    randomise(dit, 1)
    save(dit, out / "models" / "zimage_dit.safetensors", torch.bfloat16)

    vae = zimage_autoencoder.AutoencoderKL(
        in_channels=zimage_config.DEFAULT_VAE_IN_CHANNELS, out_channels=zimage_config.DEFAULT_VAE_OUT_CHANNELS,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(128, 256, 512, 512), layers_per_block=2,
        latent_channels=zimage_config.ZIMAGE_VAE_LATENT_CHANNELS, norm_num_groups=zimage_config.DEFAULT_VAE_NORM_NUM_GROUPS,
        scaling_factor=zimage_config.ZIMAGE_VAE_SCALING_FACTOR, shift_factor=zimage_config.ZIMAGE_VAE_SHIFT_FACTOR,
        use_quant_conv=False, use_post_quant_conv=False, mid_block_add_attention=True)
    randomise(vae, 2)
    save(vae, out / "models" / "zimage_vae.safetensors", torch.float32)

    config = zimage_utils.Qwen3Config(architectures=["Qwen3ForCausalLM"], model_type="qwen3", hidden_act="silu",
                                      rms_norm_eps=1e-6, rope_theta=1000000, tie_word_embeddings=True,
                                      max_position_embeddings=40960)
    qwen3 = Qwen3ForCausalLM(config)
    randomise(qwen3, 3)
    save(qwen3, out / "models" / "zimage_qwen3.safetensors", torch.bfloat16, drop=("lm_head.weight",))

    hf_snapshot(out / "hf", zimage_utils.ZIMAGE_ID, qwen_tokenizer_files("tokenizer/", out / "work-qwen"))


def byte_bpe_fast_files(prefix: str, special: list[str], config: dict, corpus: list[str] = CORPUS) -> dict:
    """A byte-level BPE tokenizer as tokenizer.json, loaded by AutoTokenizer as a PreTrainedTokenizerFast."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=special,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return {f"{prefix}tokenizer.json": tok.to_str(),
            f"{prefix}tokenizer_config.json": json.dumps({"tokenizer_class": "PreTrainedTokenizerFast",
                                                          "model_max_length": 512, **config}, indent=1)}


def wan(out: Path) -> None:
    from musubi_tuner.wan.configs import WAN_CONFIGS
    from musubi_tuner.wan.modules import model as wan_model, t5, vae

    cfg = WAN_CONFIGS["t2v-1.3B"]
    dit = wan_model.WanModel(model_type="t2v", model_version="2.1", dim=cfg.dim, eps=cfg.eps, ffn_dim=cfg.ffn_dim,
                             freq_dim=cfg.freq_dim, in_dim=cfg.in_dim, num_heads=cfg.num_heads,
                             num_layers=cfg.num_layers, out_dim=cfg.out_dim, text_len=cfg.text_len,
                             attn_mode="torch", split_attn=False)
    randomise(dit, 4)   # its head is zero-initialised: with zero weights every LoRA gradient would be zero
    save(dit, out / "models" / "wan_dit.safetensors", torch.float32)   # a bf16 Wan DiT fails on the CPU

    # Wan 2.2 t2v-A14B: a low-noise and a high-noise expert (2.2 modulation), different weights
    cfg22 = WAN_CONFIGS["t2v-A14B"]
    for seed, expert in ((10, "low"), (11, "high")):
        dit = wan_model.WanModel(model_type="t2v", model_version="2.2", dim=cfg22.dim, eps=cfg22.eps,
                                 ffn_dim=cfg22.ffn_dim, freq_dim=cfg22.freq_dim, in_dim=cfg22.in_dim,
                                 num_heads=cfg22.num_heads, num_layers=cfg22.num_layers, out_dim=cfg22.out_dim,
                                 text_len=cfg22.text_len, attn_mode="torch", split_attn=False)
        randomise(dit, seed)
        save(dit, out / "models" / f"wan22_dit_{expert}.safetensors", torch.float32)

    encoder = t5.umt5_xxl(encoder_only=True, return_tokenizer=False)
    randomise(encoder, 5)
    save(encoder, out / "models" / "wan_t5.safetensors", torch.bfloat16)

    autoencoder = vae.WanVAE_(z_dim=16, dim_mult=[1, 2, 4, 4], attn_scales=[], temperal_downsample=[False, True, True],
                              dropout=0.0, **TINY["wan_vae"])
    randomise(autoencoder, 6)
    save(autoencoder, out / "models" / "wan_vae.safetensors", torch.float32)

    hf_snapshot(out / "hf", "Wan-AI/Wan2.1-T2V-14B",
                byte_bpe_fast_files("google/umt5-xxl/", ["<pad>", "</s>", "<unk>"],
                                    {"pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>"}))

    # Wan 2.1 i2v-14B (one-frame training): the DiT with its image cross-attention and CLIP projection, and the
    # CLIP (XLM-RoBERTa ViT-H/14) whose vision tower encodes the control images
    cfg_i2v = WAN_CONFIGS["i2v-14B"]
    dit = wan_model.WanModel(model_type="i2v", model_version="2.1", dim=cfg_i2v.dim, eps=cfg_i2v.eps,
                             ffn_dim=cfg_i2v.ffn_dim, freq_dim=cfg_i2v.freq_dim, in_dim=cfg_i2v.in_dim,
                             num_heads=cfg_i2v.num_heads, num_layers=cfg_i2v.num_layers, out_dim=cfg_i2v.out_dim,
                             text_len=cfg_i2v.text_len, attn_mode="torch", split_attn=False)
    randomise(dit, 18)
    save(dit, out / "models" / "wan_i2v_dit.safetensors", torch.float32)

    from musubi_tuner.wan.modules import clip

    model = clip.clip_xlm_roberta_vit_h_14()
    randomise(model, 19)
    save(model, out / "models" / "wan_clip.safetensors", torch.float16)
    hf_snapshot(out / "hf", "Wan-AI/Wan2.1-I2V-14B-720P",
                byte_bpe_fast_files("xlm-roberta-large/", ["<s>", "<pad>", "</s>", "<unk>"],
                                    {"bos_token": "<s>", "pad_token": "<pad>", "eos_token": "</s>",
                                     "unk_token": "<unk>"}))


def qwen_vl_image_processor(processor_class: str) -> dict:
    """Qwen2-VL's image processor config for the tiny vision tower (TINY["qwen_vl_vision"]): its patch and merge
    sizes, and images kept small (56x56 to 112x112 pixels)."""
    vision = TINY["qwen_vl_vision"]
    return {"image_processor_type": "Qwen2VLImageProcessor", "processor_class": processor_class,
            "do_resize": True, "do_rescale": True, "do_normalize": True, "do_convert_rgb": True,
            "image_mean": [0.48145466, 0.4578275, 0.40821073],
            "image_std": [0.26862954, 0.26130258, 0.27577711], "rescale_factor": 1 / 255,
            "patch_size": vision["patch_size"], "temporal_patch_size": vision["temporal_patch_size"],
            "merge_size": vision["spatial_merge_size"], "min_pixels": 56 * 56, "max_pixels": 112 * 112}


def qwen_image(out: Path) -> None:
    from musubi_tuner.qwen_image import qwen_image_model, qwen_image_utils
    from transformers import Qwen2_5_VLForConditionalGeneration

    dit = qwen_image_model.create_model("torch", False, False, False, False, None, num_layers=1)
    dit = dit.to_empty(device="cpu")
    randomise(dit, 7)
    save(dit, out / "models" / "qwen_image_dit.safetensors", torch.bfloat16)

    # musubi's config JSON is local to its loader: transformers' defaults are the same model, and the import hook
    # shrinks both the same way
    vl = Qwen2_5_VLForConditionalGeneration(qwen_image_utils.Qwen2_5_VLConfig(tie_word_embeddings=False))
    randomise(vl, 8)
    # musubi's file layout (the original checkpoint's): model.* = the language model, visual.* = the vision tower
    sd = {}
    for k, v in vl.state_dict().items():
        k = k.replace("model.language_model.", "model.", 1).replace("model.visual.", "visual.", 1)
        sd[k] = v.detach().to(torch.bfloat16).contiguous().clone()
    save_file(sd, str(out / "models" / "qwen_image_vl.safetensors"))

    vae = qwen_image_utils.AutoencoderKLQwenImage(z_dim=16, dim_mult=[1, 2, 4, 4], attn_scales=[],
                                                  temperal_downsample=[False, True, True], dropout=0.0,
                                                  input_channels=3)
    randomise(vae, 9)
    save(vae, out / "models" / "qwen_image_vae.safetensors", torch.float32)

    hf_snapshot(out / "hf", qwen_image_utils.QWEN_IMAGE_ID, qwen_tokenizer_files("tokenizer/", out / "work-qwen-image"))

    # Qwen-Image-Layered: the DiT with the layer time conditioning and 3D RoPE, and the RGBA VAE (4 input channels)
    dit = qwen_image_model.create_model("torch", False, False, True, True, None, num_layers=1)
    dit = dit.to_empty(device="cpu")
    randomise(dit, 20)
    save(dit, out / "models" / "qwen_layered_dit.safetensors", torch.bfloat16)
    vae = qwen_image_utils.AutoencoderKLQwenImage(z_dim=16, dim_mult=[1, 2, 4, 4], attn_scales=[],
                                                  temperal_downsample=[False, True, True], dropout=0.0,
                                                  input_channels=4)
    randomise(vae, 21)
    save(vae, out / "models" / "qwen_layered_vae.safetensors", torch.float32)

    # Qwen-Image-Edit: the same text encoder, read through Qwen2VLProcessor (tokenizer + image processor), which
    # expands each <|image_pad|> into one token per merged 28x28 patch of the control image
    image_processor = qwen_vl_image_processor("Qwen2VLProcessor")
    files = qwen_tokenizer_files("processor/", out / "work-qwen-edit", SPECIAL + VISION_SPECIAL)
    files["processor/preprocessor_config.json"] = json.dumps(image_processor, indent=1)
    files["processor/video_preprocessor_config.json"] = json.dumps(
        {**image_processor, "video_processor_type": "Qwen2VLVideoProcessor"}, indent=1)
    hf_snapshot(out / "hf", qwen_image_utils.QWEN_IMAGE_EDIT_ID, files)


def clip_tokenizer_files() -> dict:
    """CLIPTokenizer's files: every byte character alone and word-final (`</w>`), no merges, so any text
    tokenizes (a character a token) within the tiny CLIP's vocabulary."""
    from transformers.models.clip.tokenization_clip import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
    config = {"tokenizer_class": "CLIPTokenizer", "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
              "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "model_max_length": 77,
              "do_lower_case": True}
    return {"vocab.json": json.dumps({t: i for i, t in enumerate(tokens)}), "merges.txt": "#version: 0.2\n",
            "tokenizer_config.json": json.dumps(config, indent=1)}


def t5_tokenizer_files(work: Path) -> dict:
    """T5Tokenizer's files: a sentencepiece model trained here, with T5's ids (pad 0, eos 1, unk 2, no bos)."""
    import sentencepiece as spm

    work.mkdir(parents=True, exist_ok=True)
    (work / "corpus.txt").write_text("\n".join(CORPUS), encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(work / "corpus.txt"), model_prefix=str(work / "spiece"), vocab_size=120,
                                   model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
                                   hard_vocab_limit=False, character_coverage=1.0)
    config = {"tokenizer_class": "T5Tokenizer", "extra_ids": 100, "eos_token": "</s>", "unk_token": "<unk>",
              "pad_token": "<pad>", "model_max_length": 512, "legacy": True}
    return {"spiece.model": (work / "spiece.model").read_bytes(), "tokenizer_config.json": json.dumps(config)}


def kontext(out: Path) -> None:
    from musubi_tuner.flux import flux_models, flux_utils
    from transformers import CLIPTextConfig, CLIPTextModel, T5EncoderModel

    spec = flux_models.configs_flux_dev_context
    dit = flux_models.Flux(spec.params, "torch", False)
    randomise(dit, 12)
    save(dit, out / "models" / "kontext_dit.safetensors", torch.bfloat16)

    ae = flux_models.AutoEncoder(spec.ae_params)
    randomise(ae, 13)
    save(ae, out / "models" / "kontext_ae.safetensors", torch.float32)

    clip = CLIPTextModel(CLIPTextConfig(**TINY["clip_l"], max_position_embeddings=77, hidden_act="quick_gelu",
                                        bos_token_id=0, eos_token_id=2, pad_token_id=1))
    randomise(clip, 14)
    save(clip, out / "models" / "kontext_clip_l.safetensors", torch.bfloat16)

    t5 = T5EncoderModel(flux_utils.T5Config(feed_forward_proj="gated-gelu", is_gated_act=True,
                                            dense_act_fn="gelu_new", tie_word_embeddings=False, pad_token_id=0,
                                            eos_token_id=1, relative_attention_num_buckets=32,
                                            relative_attention_max_distance=128))
    randomise(t5, 15)
    save(t5, out / "models" / "kontext_t5.safetensors", torch.bfloat16)

    hf_snapshot(out / "hf", flux_utils.CLIP_L_TOKENIZER_ID, clip_tokenizer_files())
    hf_snapshot(out / "hf", flux_utils.T5_XXL_TOKENIZER_ID, t5_tokenizer_files(out / "work-t5"))


def flux2_klein(out: Path) -> None:
    """FLUX.2 klein-4b: its own DiT and AE; the text encoder is Z-Image's tiny Qwen3 (musubi loads both with the
    same loader), its tokenizer a Qwen one under Qwen/Qwen3-4B."""
    from musubi_tuner.flux_2 import flux2_models, flux2_utils

    dit = flux2_models.Flux2(flux2_utils.FLUX2_MODEL_INFO["klein-4b"].params, "torch", False)
    randomise(dit, 16)
    save(dit, out / "models" / "klein_dit.safetensors", torch.bfloat16)

    ae = flux2_models.AutoEncoder(flux2_models.AutoEncoderParams())
    randomise(ae, 17)
    save(ae, out / "models" / "klein_ae.safetensors", torch.float32)

    hf_snapshot(out / "hf", "Qwen/Qwen3-4B", qwen_tokenizer_files("", out / "work-qwen3-4b"))


def krea2(out: Path) -> None:
    """Krea 2: its single-stream DiT (RAW), the Qwen-Image VAE (qwen_image() made it: musubi loads K2's with
    qwen_image_utils.load_vae) and a Qwen3-VL text encoder saved as Comfy-Org's single file (`model.` = the
    language model, `visual.` = the vision tower, no lm_head: tied), its tokenizer under Qwen/Qwen3-VL-4B-Instruct."""
    from musubi_tuner.krea2 import krea2_encoder, krea2_mmdit, krea2_utils
    from transformers import AutoTokenizer, Qwen3VLConfig, Qwen3VLForConditionalGeneration

    dit = krea2_mmdit.SingleStreamDiT(krea2_utils.single_mmdit_large_wide)
    randomise(dit, 22)   # its modulations are zero-initialised
    save(dit, out / "models" / "krea2_dit.safetensors", torch.bfloat16)

    vl = Qwen3VLForConditionalGeneration(Qwen3VLConfig.from_dict(krea2_encoder.QWEN3_VL_4B_INSTRUCT_CONFIG))
    randomise(vl, 23)
    sd = {}
    for k, v in vl.state_dict().items():
        if k == "lm_head.weight":
            continue
        k = k.replace("model.language_model.", "model.", 1).replace("model.visual.", "visual.", 1)
        sd[k] = v.detach().to(torch.bfloat16).contiguous().clone()
    save_file(sd, str(out / "models" / "krea2_qwen3vl.safetensors"))

    # musubi cuts the system prompt off the encoder's output by a fixed count of tokens (Qwen3VLConditioner:
    # prompt_template_encode_start_idx 34, the suffix 5): the tiny tokenizer learns the template's words, so the
    # template is as many tokens as with Qwen's real vocabulary and the cut falls where it does for users
    probe = krea2_encoder.Qwen3VLConditioner.__new__(krea2_encoder.Qwen3VLConditioner)
    krea2_encoder.Qwen3VLConditioner.__init__(probe, vl, None, None)
    template = [probe.prompt_template_encode_prefix, probe.prompt_template_encode_suffix]
    repo = krea2_encoder.QWEN3_VL_4B_INSTRUCT_REPO_ID
    hf_snapshot(out / "hf", repo, qwen_tokenizer_files("", out / "work-krea2", corpus=CORPUS + template * 20))
    tok = AutoTokenizer.from_pretrained(str(out / "hf" / "hub" / f"models--{repo.replace('/', '--')}" / "snapshots" /
                                            hashlib.sha1(repo.encode()).hexdigest()))
    counts = [len(tok(t)["input_ids"]) for t in template]
    assert counts == [probe.prompt_template_encode_start_idx, probe.prompt_template_encode_suffix_start_idx], counts


# Qwen3-VL's chat template, reduced to what musubi renders: a message's content is text or a list of text and image
# parts (Ideogram 4 and HiDream-O1 build `[{"type": "text", "text": ...}]`)
QWEN3_VL_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}{% else %}{% for part in message['content'] %}{% if part['type'] == 'image' %}"
    "<|vision_start|><|image_pad|><|vision_end|>{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def comfy_fp8_scaled(sd: dict, quantize: list[str], dtype=torch.bfloat16) -> dict:
    """Comfy-Org's `*_fp8_scaled.safetensors` layout: each quantized Linear as `<layer>.weight` in float8_e4m3fn with
    one float32 `<layer>.weight_scale` (max|W| / 448: musubi's own per-tensor quantize_weight) and the marker
    `<layer>.comfy_quant` (the UTF-8 JSON {"format": "float8_e4m3fn"} as uint8); every other tensor in `dtype`."""
    from musubi_tuner.modules.fp8_optimization_utils import calculate_fp8_maxval, quantize_weight

    fp8, top = torch.float8_e4m3fn, calculate_fp8_maxval(4, 3)
    marker = torch.tensor(list(json.dumps({"format": "float8_e4m3fn"}).encode()), dtype=torch.uint8)
    out = {}
    for k, v in sd.items():
        v = v.detach()
        if k in quantize:
            weight, scale = quantize_weight(k, v.float(), fp8, top, -top, "tensor")
            base = k.removesuffix(".weight")
            out[k] = weight.contiguous()
            out[f"{base}.weight_scale"] = scale.reshape(()).float()
            out[f"{base}.comfy_quant"] = marker.clone()
        else:
            out[k] = v.to(dtype).contiguous().clone()
    return out


def ideogram4(out: Path) -> None:
    """Ideogram 4: the conditional DiT and the Qwen3-VL-8B text encoder as Comfy-Org publishes them (fp8 scaled;
    the DiT's metadata model_type "ideogram4_cond", which musubi's loader checks), the VAE FLUX.2's (flux2_klein()
    made it: musubi builds both from flux2_models' AutoEncoderParams), the tokenizer under Qwen/Qwen3-VL-8B-Instruct."""
    from musubi_tuner.ideogram4 import ideogram4_model, ideogram4_utils as iu
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

    dit = ideogram4_model.Ideogram4Transformer(ideogram4_model.Ideogram4Config())
    randomise(dit, 24)
    sd = dit.state_dict()
    # the weights musubi itself would quantize (its fp8 target and exclude keys): the blocks' attention and MLP
    targets = [k for k, v in sd.items() if v.ndim == 2 and k.endswith(".weight")
               and any(t in k for t in iu.IDEOGRAM4_FP8_OPTIMIZATION_TARGET_KEYS)
               and not any(x in k for x in iu.IDEOGRAM4_FP8_OPTIMIZATION_EXCLUDE_KEYS)]
    assert targets
    save_file(comfy_fp8_scaled(sd, targets), str(out / "models" / "ideogram4_dit.safetensors"),
              metadata={"model_type": iu.IDEOGRAM4_COND_MODEL_TYPE})

    vl = Qwen3VLForConditionalGeneration(Qwen3VLConfig.from_dict(iu.QWEN3_VL_8B_INSTRUCT_CONFIG))
    randomise(vl, 25)
    sd = {k.replace("model.language_model.", "model.", 1).replace("model.visual.", "visual.", 1): v
          for k, v in vl.state_dict().items() if k != "lm_head.weight"}
    targets = [k for k, v in sd.items() if k.startswith("model.layers.") and v.ndim == 2 and k.endswith(".weight")]
    save_file(comfy_fp8_scaled(sd, targets), str(out / "models" / "ideogram4_qwen3vl.safetensors"))

    files = qwen_tokenizer_files("", out / "work-ideogram4", SPECIAL + VISION_SPECIAL)
    config = json.loads(files["tokenizer_config.json"])
    files["tokenizer_config.json"] = json.dumps({**config, "chat_template": QWEN3_VL_CHAT_TEMPLATE}, indent=1)
    hf_snapshot(out / "hf", iu.QWEN3_VL_8B_INSTRUCT_REPO_ID, files)


# HiDream-O1's tokens beyond Qwen3-VL's (hidream_o1_utils.add_special_tokens), numbered after the vision ones: the
# timestep token's id is the one tiny/sitecustomize.py gives the model (TINY["hidream_tms_token_id"])
HIDREAM_SPECIAL = SPECIAL + VISION_SPECIAL + ["<|boi_token|>", "<|bor_token|>", "<|eor_token|>", "<|bot_token|>",
                                              "<|tms_token|>"]


def hidream_o1(out: Path) -> None:
    """HiDream-O1 (full): one Qwen3-VL that is text encoder and pixel-space denoiser, saved as Comfy-Org's single
    checkpoint (bare keys, no LM head, no deepstack mergers: what hidream_o1_utils.load_single_checkpoint_model
    expects), and what musubi takes from the hub repo by --model_type: the model's config.json and the Qwen3-VL
    processor (tokenizer, image and video processor configs, chat template)."""
    from musubi_tuner.hidream_o1 import hidream_o1_utils as hu
    from musubi_tuner.hidream_o1.qwen3_vl_transformers import Qwen3VLForConditionalGeneration
    from transformers import AutoTokenizer, Qwen3VLConfig

    ids = {t: i for i, t in enumerate(HIDREAM_SPECIAL)}
    assert ids["<|tms_token|>"] == TINY["hidream_tms_token_id"]
    config = {
        "architectures": ["Qwen3VLForConditionalGeneration"], "model_type": "qwen3_vl", "tie_word_embeddings": False,
        "image_token_id": ids["<|image_pad|>"], "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"], "vision_end_token_id": ids["<|vision_end|>"],
        "text_config": {"model_type": "qwen3_vl_text", "hidden_act": "silu", "rms_norm_eps": 1e-6,
                        "rope_theta": 5000000, "max_position_embeddings": 262144, "attention_bias": False,
                        "attention_dropout": 0.0, "bos_token_id": ids["<|endoftext|>"],
                        "eos_token_id": ids["<|im_end|>"], **TINY["qwen3_vl_text"]},
        "vision_config": {"model_type": "qwen3_vl", "hidden_act": "gelu_pytorch_tanh", "in_channels": 3,
                          "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2,
                          "num_position_embeddings": 2304, **TINY["qwen3_vl_vision"]},
    }
    model = Qwen3VLForConditionalGeneration(Qwen3VLConfig.from_dict(config))
    randomise(model, 26)   # its pixel head (final_layer2) is zero-initialised
    sd = {k.removeprefix("model."): v.detach().to(torch.bfloat16).contiguous().clone()
          for k, v in model.state_dict().items() if not k.startswith("lm_head.") and "deepstack_merger_list" not in k}
    save_file(sd, str(out / "models" / "hidream_o1_dit.safetensors"))

    files = qwen_tokenizer_files("", out / "work-hidream", HIDREAM_SPECIAL)
    tokenizer_config = json.loads(files["tokenizer_config.json"])
    files["tokenizer_config.json"] = json.dumps({**tokenizer_config, "processor_class": "Qwen3VLProcessor",
                                                 "chat_template": QWEN3_VL_CHAT_TEMPLATE}, indent=1)
    image = {"image_processor_type": "Qwen2VLImageProcessorFast", "processor_class": "Qwen3VLProcessor",
             "patch_size": 16, "temporal_patch_size": 2, "merge_size": 2, "image_mean": [0.5, 0.5, 0.5],
             "image_std": [0.5, 0.5, 0.5], "size": {"shortest_edge": 65536, "longest_edge": 16777216}}
    files["preprocessor_config.json"] = json.dumps(image, indent=1)
    files["video_preprocessor_config.json"] = json.dumps(
        {**image, "image_processor_type": None, "video_processor_type": "Qwen3VLVideoProcessor"}, indent=1)
    files["chat_template.json"] = json.dumps({"chat_template": QWEN3_VL_CHAT_TEMPLATE}, indent=1)
    files["config.json"] = json.dumps(config, indent=1)
    hf_snapshot(out / "hf", hu.HIDREAM_O1_REPO_FULL, files)
    tok = AutoTokenizer.from_pretrained(str(out / "hf" / "hub" / f"models--{hu.HIDREAM_O1_REPO_FULL.replace('/', '--')}"
                                            / "snapshots" / hashlib.sha1(hu.HIDREAM_O1_REPO_FULL.encode()).hexdigest()))
    assert tok.convert_tokens_to_ids("<|tms_token|>") == TINY["hidream_tms_token_id"]
def hunyuan_video_1_5(out: Path) -> None:
    """HunyuanVideo 1.5: its DiT (T2V and I2V share the weights' layout) and 16x VAE from musubi's classes; the
    Qwen2.5-VL text encoder is Qwen-Image's tiny one (musubi loads both with qwen_image_utils.load_qwen2_5_vl, and
    the tokenizer from Qwen/Qwen-Image); ByT5 is transformers' T5 encoder with the special tokens musubi adds, in
    the checkpoint's layout (shared.weight), and its byte tokenizer under google/byt5-small; for I2V, SigLIP."""
    from musubi_tuner.hunyuan_video_1_5 import hunyuan_video_1_5_models, hunyuan_video_1_5_text_encoder as te
    from musubi_tuner.hunyuan_video_1_5 import hunyuan_video_1_5_vae
    from transformers import ByT5Tokenizer, T5ForConditionalGeneration

    dit = hunyuan_video_1_5_models.create_model("t2v", "torch", False, None).to_empty(device="cpu")
    randomise(dit, 30)
    save(dit, out / "models" / "hv15_dit.safetensors", torch.bfloat16)

    vae = hunyuan_video_1_5_vae.AutoencoderKLConv3D(
        in_channels=3, out_channels=3, latent_channels=hunyuan_video_1_5_vae.VAE_LATENT_CHANNELS,
        block_out_channels=(128, 256, 512, 1024, 1024), layers_per_block=2, ffactor_spatial=16, ffactor_temporal=4,
        sample_size=256, sample_tsize=64, scaling_factor=hunyuan_video_1_5_vae.VAE_SCALING_FACTOR)
    randomise(vae, 31)
    save(vae, out / "models" / "hv15_vae.safetensors", torch.float32)

    # load_byt5's config (its JSON is local to the loader), shrunk by the hook's T5Config
    config = te.T5Config(d_model=1472, d_ff=3584, d_kv=64, num_heads=6, num_layers=12, num_decoder_layers=4,
                         feed_forward_proj="gated-gelu", vocab_size=384, relative_attention_num_buckets=32,
                         layer_norm_epsilon=1e-6, is_encoder_decoder=True, tie_word_embeddings=False,
                         pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    tokenizer = ByT5Tokenizer(extra_ids=125)
    encoder = T5ForConditionalGeneration(config).get_encoder()
    te.add_special_token(tokenizer, encoder)   # musubi's: colour and font tokens, embeddings resized to match
    randomise(encoder, 32)
    sd = {("shared.weight" if k == "embed_tokens.weight" else k): v.detach().to(torch.float16).contiguous().clone()
          for k, v in encoder.state_dict().items()}
    save_file(sd, str(out / "models" / "hv15_byt5.safetensors"))
    work = out / "work-byt5"
    ByT5Tokenizer(extra_ids=125).save_pretrained(str(work))
    hf_snapshot(out / "hf", te.BYT5_TOKENIZER_PATH, {p.name: p.read_bytes() for p in work.iterdir() if p.is_file()})

    # I2V: the SigLIP image encoder, from the config musubi's loader builds it with (shrunk with the DiT's hook)
    from musubi_tuner.frame_pack import framepack_utils
    from transformers import SiglipVisionConfig, SiglipVisionModel

    siglip = SiglipVisionModel(SiglipVisionConfig(**framepack_utils.IMAGE_ENCODER_CONFIG))
    randomise(siglip, 33)
    save(siglip, out / "models" / "hv15_siglip.safetensors", torch.float16)


# HunyuanVideo's VAE config, fixed in hunyuan_model/vae.py load_vae (a JSON string local to it); the import hook
# shrinks the channels and layers the same way when musubi builds it
HV_VAE_CONFIG = {"act_fn": "silu", "block_out_channels": [128, 256, 512, 512], "in_channels": 3, "latent_channels": 16,
                 "down_block_types": ["DownEncoderBlockCausal3D"] * 4, "up_block_types": ["UpDecoderBlockCausal3D"] * 4,
                 "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3, "sample_size": 256,
                 "sample_tsize": 64, "scaling_factor": 0.476986, "time_compression_ratio": 4,
                 "mid_block_add_attention": True}


def kandinsky5(out: Path) -> None:
    """Kandinsky 5 (Lite T2V 5 s): its DiT from the task config (shrunk by the hook) and HunyuanVideo's VAE, as
    files; the text encoders as the Hugging Face model folders musubi loads with from_pretrained: a tiny
    Qwen2.5-VL (Qwen-Image's size) with the Qwen2.5-VL processor of the Qwen-Image-Edit run, and a tiny CLIP-L text
    model with the CLIP tokenizer."""
    from musubi_tuner.hunyuan_model.autoencoder_kl_causal_3d import AutoencoderKLCausal3D
    from musubi_tuner.kandinsky5.configs import TASK_CONFIGS
    from musubi_tuner.kandinsky5.models.dit import get_dit
    from musubi_tuner.qwen_image import qwen_image_utils
    from transformers import CLIPTextConfig, CLIPTextModel, Qwen2_5_VLForConditionalGeneration

    dit = get_dit(dict(TASK_CONFIGS["k5-lite-t2v-5s-sd"].dit_params.__dict__))
    randomise(dit, 40)
    save(dit, out / "models" / "k5_dit.safetensors", torch.bfloat16)

    vae = AutoencoderKLCausal3D.from_config(HV_VAE_CONFIG)
    randomise(vae, 41)
    save(vae, out / "models" / "k5_vae.safetensors", torch.float16)

    qwen = out / "k5" / "text_encoder"
    vl = Qwen2_5_VLForConditionalGeneration(qwen_image_utils.Qwen2_5_VLConfig(tie_word_embeddings=False))
    randomise(vl, 42)
    vl.to(torch.bfloat16).save_pretrained(str(qwen))
    image_processor = qwen_vl_image_processor("Qwen2_5_VLProcessor")
    files = qwen_tokenizer_files("", out / "work-k5-qwen", SPECIAL + VISION_SPECIAL)
    files["preprocessor_config.json"] = json.dumps(image_processor, indent=1)
    for name, data in files.items():
        (qwen / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))

    clip_dir = out / "k5" / "text_encoder2"
    clip = CLIPTextModel(CLIPTextConfig(**TINY["clip_l"], max_position_embeddings=77, hidden_act="quick_gelu",
                                        bos_token_id=0, eos_token_id=2, pad_token_id=1))
    randomise(clip, 43)
    clip.save_pretrained(str(clip_dir))
    for name, data in clip_tokenizer_files().items():
        (clip_dir / name).write_text(data, encoding="utf-8")
LLAMA3_SPECIAL = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
                  "<pad>"]


def framepack(out: Path) -> None:
    """FramePack: the packed HunyuanVideo DiT, HunyuanVideo's causal 3D VAE, the LLaMA and CLIP-L text encoders and
    the SigLIP image encoder, each from the config musubi builds it with (frame_pack/framepack_utils.py, shrunk by
    the import hook); the tokenizers under hunyuanvideo-community/HunyuanVideo."""
    from musubi_tuner.frame_pack import framepack_utils as fu, hunyuan_video_packed
    from musubi_tuner.hunyuan_model.autoencoder_kl_causal_3d import AutoencoderKLCausal3D
    from musubi_tuner.hunyuan_model.text_encoder import PROMPT_TEMPLATE
    from transformers import CLIPConfig, CLIPTextModel, LlamaConfig, LlamaModel, SiglipVisionConfig, SiglipVisionModel

    dit = hunyuan_video_packed.HunyuanVideoTransformer3DModelPacked(attn_mode="torch")
    randomise(dit, 22)
    save(dit, out / "models" / "fpack_dit.safetensors", torch.bfloat16)   # as published; musubi trains it in bf16

    vae = AutoencoderKLCausal3D.from_config(HV_VAE_CONFIG)
    randomise(vae, 23)
    save(vae, out / "models" / "fpack_vae.safetensors", torch.float16)

    llama = LlamaModel(LlamaConfig(**fu.LLAMA_CONFIG))
    randomise(llama, 24)
    save(llama, out / "models" / "fpack_llama.safetensors", torch.float16)
    clip = CLIPTextModel(CLIPConfig(**fu.CLIP_CONFIG))
    randomise(clip, 25)
    save(clip, out / "models" / "fpack_clip_l.safetensors", torch.float16)
    siglip = SiglipVisionModel(SiglipVisionConfig(**fu.IMAGE_ENCODER_CONFIG))
    randomise(siglip, 26)
    save(siglip, out / "models" / "fpack_siglip.safetensors", torch.bfloat16)

    # musubi crops the LLaMA prompt template off the hidden states by a fixed token count (crop_start 95, the real
    # tokenizer's): trained on the template too, the tiny tokenizer cuts it into about as many tokens (96), so the
    # caption's tokens, not the template's, stay in the cache. Padding on the right as the real one's
    # (LlamaTokenizerFast pads on the left by default, and musubi asserts that the kept tokens are all unmasked)
    template = PROMPT_TEMPLATE["dit-llm-encode-video"]["template"]
    llama_files = byte_bpe_fast_files(
        "tokenizer/", LLAMA3_SPECIAL,
        {"tokenizer_class": "LlamaTokenizerFast", "bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>",
         "pad_token": "<pad>", "padding_side": "right", "model_max_length": 131072},
        corpus=CORPUS + [template.replace("{}", c) for c in CORPUS[:8]] * 20)
    clip_files = {f"tokenizer_2/{k}": v for k, v in clip_tokenizer_files().items()}
    hf_snapshot(out / "hf", "hunyuanvideo-community/HunyuanVideo", {**llama_files, **clip_files})


if __name__ == "__main__":
    target = Path(sys.argv[1])
    zimage(target)
    wan(target)
    qwen_image(target)
    kontext(target)
    flux2_klein(target)
    krea2(target)
    ideogram4(target)
    hidream_o1(target)
    hunyuan_video_1_5(target)
    kandinsky5(target)
    framepack(target)
    print("ok")
