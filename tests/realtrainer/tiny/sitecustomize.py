"""Shrinks musubi-tuner's hard-coded model sizes at import time, so the real scripts run on a CPU in seconds.

Active only when LW_TINY_MUSUBI=1 (the real-trainer tests put this folder on PYTHONPATH and set it); musubi's
own files are never edited. An import hook runs a patch right after each chosen musubi module has executed,
before anything else imports names from it. The tiny random weights (tests/realtrainer/make_tiny.py) are
built from musubi's own classes with these sizes, so every load reports all keys matched.
"""

import os
import sys

TINY = {
    # Z-Image DiT: head dim = dim / heads = 32 = sum(ROPE_AXES_DIMS); caption features = the text encoder's width
    "zimage_dit": {"DEFAULT_TRANSFORMER_DIM": 64, "DEFAULT_TRANSFORMER_N_LAYERS": 1,
                   "DEFAULT_TRANSFORMER_N_REFINER_LAYERS": 1, "DEFAULT_TRANSFORMER_N_HEADS": 2,
                   "DEFAULT_TRANSFORMER_N_KV_HEADS": 2, "DEFAULT_TRANSFORMER_CAP_FEAT_DIM": 64,
                   "ROPE_AXES_DIMS": [8, 12, 12]},
    # Qwen3 (Z-Image's text encoder): vocab covers the tiny tokenizer (make_tiny.VOCAB)
    "qwen3": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2,
              "num_key_value_heads": 1, "head_dim": 32, "vocab_size": 1024, "max_window_layers": 2},
    # Z-Image VAE: four blocks keep the 8x scale factor; 32 channels suit 32 norm groups
    "zimage_vae": {"block_out_channels": (32, 32, 32, 32), "layers_per_block": 1},
    # Wan 2.1 t2v-1.3B DiT; its text embedding takes the tiny T5's width (load_wan_model never passes text_dim)
    "wan_dit": {"dim": 64, "ffn_dim": 128, "num_heads": 2, "num_layers": 1},
    "wan_text_dim": 64,
    # Wan's CLIP (i2v): the DiT projects 257 tokens 1280 wide (wan/modules/model.py MLPProj, WanI2VCrossAttention),
    # so the vision tower keeps its width and 224px input; two layers (the features are the second-to-last's)
    "wan_clip": {"embed_dim": 64, "vision_layers": 2, "vision_heads": 2, "vocab_size": 1024, "text_dim": 64,
                 "text_heads": 2, "text_layers": 1},
    # umt5-xxl encoder (vocab covers the tiny tokenizer)
    "wan_t5": {"vocab_size": 1024, "dim": 64, "dim_attn": 64, "dim_ffn": 128, "num_heads": 2, "encoder_layers": 1,
               "decoder_layers": 1},
    # Wan VAE: same stages (and 16 latent channels, whose mean/std are fixed), narrower
    "wan_vae": {"dim": 8, "num_res_blocks": 1},
    # Qwen-Image DiT: head dim 32 = sum(axes_dims_rope); text width = the tiny Qwen2.5-VL's
    "qwen_dit": {"attention_head_dim": 32, "num_attention_heads": 2, "joint_attention_dim": 64,
                 "axes_dims_rope": (8, 12, 12), "num_layers": 1},
    # Qwen2.5-VL (Qwen-Image's text encoder): head dim 32, so the mrope sections sum to 16
    "qwen_vl_text": {"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 2, "num_key_value_heads": 1,
                     "num_hidden_layers": 2, "max_window_layers": 2, "vocab_size": 1024,
                     "layer_types": ["full_attention"] * 2,
                     "rope_scaling": {"mrope_section": [4, 6, 6], "rope_type": "default", "type": "default"}},
    "qwen_vl_vision": {"depth": 1, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2,
                       "out_hidden_size": 64, "fullatt_block_indexes": [0],
                       # as the real one; the tiny image processor (make_tiny.py) cuts the same patches
                       "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2},
    # the ids the tiny Qwen tokenizer gives Qwen2.5-VL's image tokens (make_tiny.VISION_SPECIAL)
    "qwen_vl_tokens": {"vision_start_token_id": 3, "vision_end_token_id": 4, "vision_token_id": 5,
                       "image_token_id": 6, "video_token_id": 7},
    # Qwen-Image VAE (a Wan-style 3D VAE): same stages and 16 latent channels, narrower
    "qwen_vae": {"base_dim": 8, "num_res_blocks": 1},
    # Qwen-Image-Edit's sampling resizes each control image to these "official" sizes (VAE: 1024x1024, the
    # vision tower: 384x384) whatever the sample's size: minutes of CPU for a 64x64 sample, so a tiny one
    "qwen_edit_resolutions": {"VAE_IMAGE_RESOLUTION": (64, 64), "CONDITION_IMAGE_RESOLUTION": (56, 56)},
    # FLUX.1 Kontext DiT: head dim 32 = sum(axes_dim); text width = the tiny T5's, pooled width = the tiny CLIP's
    "flux_dit": {"hidden_size": 64, "num_heads": 2, "depth": 1, "depth_single_blocks": 1, "axes_dim": [8, 12, 12],
                 "context_in_dim": 64, "vec_in_dim": 64},
    # FLUX.1 AE: same stages (8x) and 16 latent channels; 32 channels suit its 32 norm groups
    "flux_ae": {"ch": 32, "num_res_blocks": 1},
    # CLIP-L text model (musubi passes its config flat) and T5-XXL encoder; vocabularies cover the tiny tokenizers
    "clip_l": {"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 2, "num_hidden_layers": 1,
               "projection_dim": 64, "vocab_size": 1024},
    "t5xxl": {"d_model": 64, "d_ff": 128, "d_kv": 32, "num_heads": 2, "num_layers": 1, "num_decoder_layers": 1,
              "vocab_size": 1024},
    # FLUX.2 klein: its text encoder is Z-Image's Qwen3 (same tiny size); the DiT reads three of its hidden
    # states, stacked (3 x 64 wide): the tiny Qwen3 has layers 0-2 where the real one has 9, 18, 27
    "flux2_qwen3_layers": [0, 1, 2],
    "flux2_dit": {"hidden_size": 64, "num_heads": 2, "depth": 1, "depth_single_blocks": 1, "axes_dim": [8, 8, 8, 8],
                  "context_in_dim": 192},
    # FLUX.2 AE: same stages and 32 latent channels, narrower
    "flux2_ae": {"ch": 32, "num_res_blocks": 1},
    # Qwen3-VL (Krea 2's text encoder, from the config dict musubi vendors): head dim 32, so the interleaved mrope
    # sections cover 16 rotary pairs (3 x 5 <= 16, as 3 x 20 <= 64 for the real one); vocab covers the tiny
    # tokenizer; the vision tower at its smallest, its deepstack merger on its only layer
    "qwen3_vl_text": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2,
                      "num_key_value_heads": 1, "head_dim": 32, "vocab_size": 1024,
                      "rope_scaling": {"mrope_interleaved": True, "mrope_section": [6, 5, 5], "rope_type": "default"}},
    "qwen3_vl_vision": {"depth": 1, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
                        "deepstack_visual_indexes": [0]},
    # Krea 2 reads these hidden states of the encoder (the real one 12 of 36: 2, 5, ..., 35); the DiT's text fusion
    # takes as many (txtlayers) at the encoder's width (txtdim). DiT head dim 32: rope axes 8, 12, 12; GQA as the
    # real one (heads 2, kv heads 1)
    "krea2_select_layers": (1, 2),
    "krea2_dit": {"features": 64, "tdim": 32, "txtdim": 64, "heads": 2, "kvheads": 1, "layers": 2, "txtheads": 2,
                  "txtkvheads": 2, "txtlayers": 2},
    # Ideogram 4 taps these decoder layers of its Qwen3-VL-8B (the real one 13 of 36: 0, 3, ..., 33, 35), the tiny
    # one (qwen3_vl_text, 2 layers) both; the DiT reads them concatenated (llm_features_dim = width x taps). DiT head
    # dim 32: mrope sections 3 x 5 <= 16 rotary pairs; in_channels stays 128 (the FLUX.2 AE's 32 channels x 2x2)
    "ideogram4_taps": (0, 1),
    "ideogram4_dit": {"emb_dim": 64, "num_layers": 2, "num_heads": 2, "intermediate_size": 128, "adanln_dim": 32,
                      "llm_features_dim": 64 * 2, "mrope_section": (6, 5, 5)},
    # HiDream-O1's model config comes from the hub (config.json in the fake HF cache, written by make_tiny.py with
    # the qwen3_vl_* sizes above); only the id of its timestep token is hard-coded (tiny: make_tiny.HIDREAM_SPECIAL)
    "hidream_tms_token_id": 12,
    # HunyuanVideo 1.5 DiT: its sizes are literals inside __init__, replaced in its source (old, new). Head dim
    # 64 / 2 = 32 = sum(rope_dim_list); text width = the tiny Qwen2.5-VL's; ByT5's width stays 1472 (the DiT's ByT5
    # mapper takes it, and the text cache writes 1472-wide zeros for captions without quoted text); the vision width
    # is the tiny SigLIP's
    "hv15_dit_source": [("super().__init__()", "nn.Module.__init__(self)"),
                        ("self.rope_dim_list = [16, 56, 56]", "self.rope_dim_list = [8, 12, 12]"),
                        ("self.vision_states_dim = 1152", "self.vision_states_dim = 64"),
                        ("self.hidden_size = 2048", "self.hidden_size = 64"),
                        ("self.heads_num = 16", "self.heads_num = 2"),
                        ("mm_double_blocks_depth = 54", "mm_double_blocks_depth = 1"),
                        ("text_states_dim = 3584", "text_states_dim = 64"),
                        ("out_dim=2048, hidden_dim=2048", "out_dim=64, hidden_dim=64")],
    # HunyuanVideo 1.5 VAE: the same five levels (16x space, 4x time) and 32 latent channels, a sixteenth of
    # the width, so every channel ratio (the Downsample/Upsample group sizes) stays the real one
    "hv15_vae": {"block_out_channels": (8, 16, 32, 64, 64), "layers_per_block": 1},
    # ByT5 (HunyuanVideo 1.5's glyph encoder): d_model stays 1472 (above), one small layer
    "hv15_byt5": {"d_ff": 64, "d_kv": 32, "num_heads": 2, "num_layers": 1, "num_decoder_layers": 1},
    # HunyuanVideo 1.5 I2V's SigLIP image encoder (FramePack's loader, framepack_utils.IMAGE_ENCODER_CONFIG): 384px
    # input and 14px patches kept, the DiT's tiny vision width, one layer
    "hv15_siglip": {"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 2, "num_hidden_layers": 1},
    # Kandinsky 5's DiT, every video task (kandinsky5/configs.py TASK_CONFIGS): head dim 32 = sum(axes_dims), text
    # width = the tiny Qwen2.5-VL's, pooled width = the tiny CLIP's; its 16 latent channels are HunyuanVideo's VAE's
    "k5_dit": {"in_text_dim": 64, "in_text_dim2": 64, "time_dim": 32, "model_dim": 64, "ff_dim": 128,
               "num_text_blocks": 1, "num_visual_blocks": 1, "axes_dims": (8, 12, 12)},
    # HunyuanVideo's causal 3D VAE (Kandinsky 5's): same stages (8x space, 4x time) and 16 latent channels; 32 suit
    # 32 norm groups
    "hunyuan_vae": {"block_out_channels": [32, 32, 32, 32], "layers_per_block": 1},
    # FramePack's packed HunyuanVideo DiT (load_packed_model's fixed config): head dim 32 = sum(rope_axes_dim); text
    # width = the tiny LLaMA's, pooled width = the tiny CLIP-L's, image width = the tiny SigLIP's
    "fpack_dit": {"num_attention_heads": 2, "attention_head_dim": 32, "rope_axes_dim": (8, 12, 12), "num_layers": 1,
                  "num_single_layers": 1, "num_refiner_layers": 1, "text_embed_dim": 64,
                  "pooled_projection_dim": 64, "image_proj_dim": 64},
    # FramePack's LLaMA text encoder: the features are its third-to-last hidden state, so two layers at least; the
    # vocabulary covers the tiny tokenizer (make_tiny.VOCAB), whose bos/eos are ids 0 and 1 (make_tiny.LLAMA3_SPECIAL)
    "fpack_llama": {"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 2, "num_key_value_heads": 1,
                    "head_dim": 32, "num_hidden_layers": 2, "vocab_size": 1024, "bos_token_id": 0,
                    "eos_token_id": 1},
    # FramePack's SigLIP image encoder: its 384px input and 14px patches (729 tokens) kept, narrower, one layer
    "fpack_siglip": {"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 2, "num_hidden_layers": 1},
}


def _zimage_config(mod):
    for name, value in TINY["zimage_dit"].items():
        setattr(mod, name, value)


def _with_tiny(mod, name: str, key: str) -> None:
    """Replace `mod.<name>` (a config class, or a builder that takes keywords) by one that merges TINY[key] in."""
    real = getattr(mod, name)

    def tiny(**kw):
        kw.update(TINY[key])
        return real(**kw)

    setattr(mod, name, tiny)


def _zimage_utils(mod):
    _with_tiny(mod, "Qwen3Config", "qwen3")


def _zimage_autoencoder(mod):
    real = mod.AutoencoderKL

    class TinyAutoencoderKL(real):
        def __init__(self, *args, **kw):
            kw.update(TINY["zimage_vae"])
            super().__init__(*args, **kw)

    TinyAutoencoderKL.__name__ = real.__name__
    mod.AutoencoderKL = TinyAutoencoderKL


def _wan_configs(mod):
    # Wan 2.2 t2v-A14B: both experts at the same tiny size (same T5 and Wan 2.1 VAE as 1.3B)
    # Wan 2.1 i2v-14B and flf2v-14B (one-frame training) as well: flf2v is a copy made at import, so both
    for task in ("t2v-1.3B", "t2v-A14B", "i2v-14B", "flf2v-14B"):
        mod.WAN_CONFIGS[task].update(TINY["wan_dit"])
    # musubi runs Wan's CLIP in fp16 under fp16 autocast; on a CPU that fails (layer_norm refuses fp16 weights with
    # the fp32 input CPU autocast leaves it: "mixed dtype (CPU): expect parameter to have scalar type of Float"),
    # so fp32 weights here, as --vae_dtype float32 for the VAE (the cache still stores the features in fp16)
    import torch

    for task in ("i2v-14B", "flf2v-14B"):
        mod.WAN_CONFIGS[task].clip_dtype = torch.float32


def _wan_clip(mod):
    _with_tiny(mod, "clip_xlm_roberta_vit_h_14", "wan_clip")
    # The latent cache hands the CLIP the VAE's bf16 pixels inside an fp16 autocast: CUDA's autocast takes them,
    # the CPU's raises in the bicubic resize ("Unexpected floating ScalarType in at::autocast::prioritize"). On a
    # CPU only, fp32 pixels (with the fp32 CLIP weights of _wan_configs).
    real_visual = mod.CLIPModel.visual

    def visual(self, videos):
        import torch

        if torch.device(self.device).type == "cpu":
            videos = [u.float() for u in videos]
        return real_visual(self, videos)

    mod.CLIPModel.visual = visual


def _wan_model(mod):
    real_init = mod.WanModel.__init__

    def __init__(self, *args, **kw):
        kw["text_dim"] = TINY["wan_text_dim"]
        real_init(self, *args, **kw)

    mod.WanModel.__init__ = __init__


def _wan_t5_before(mod):
    # t5.py evaluates torch.cuda.current_device() as a default argument while it loads: without a driver that
    # raises, so it must answer before the module executes.
    import torch

    if not torch.cuda.is_available():
        torch.cuda.current_device = lambda: "cpu"


def _wan_t5(mod):
    _with_tiny(mod, "umt5_xxl", "wan_t5")


def _wan_vae(mod):
    real = mod._video_vae

    def _video_vae(pretrained_path=None, z_dim=None, device="cpu", **kw):
        kw.update(TINY["wan_vae"])
        return real(pretrained_path=pretrained_path, z_dim=z_dim, device=device, **kw)

    mod._video_vae = _video_vae


def _qwen_model(mod):
    real = mod.QwenImageTransformer2DModel

    class TinyQwenImageTransformer2DModel(real):
        def __init__(self, *args, **kw):
            kw.update(TINY["qwen_dit"])
            super().__init__(*args, **kw)

    TinyQwenImageTransformer2DModel.__name__ = real.__name__
    mod.QwenImageTransformer2DModel = TinyQwenImageTransformer2DModel


def _qwen_utils(mod):
    real_config = mod.Qwen2_5_VLConfig

    def tiny_config(**kw):
        text = {k: v for k, v in TINY["qwen_vl_text"].items() if k != "layer_types"}
        kw.update(text)
        kw.update(TINY["qwen_vl_tokens"])
        kw["text_config"] = {**kw.get("text_config", {}), **TINY["qwen_vl_text"], **TINY["qwen_vl_tokens"]}
        kw["vision_config"] = {**kw.get("vision_config", {}), **TINY["qwen_vl_vision"]}
        return real_config(**kw)

    mod.Qwen2_5_VLConfig = tiny_config
    for name, value in TINY["qwen_edit_resolutions"].items():
        setattr(mod, name, value)
    real_vae = mod.AutoencoderKLQwenImage

    class TinyAutoencoderKLQwenImage(real_vae):
        def __init__(self, *args, **kw):
            kw.update(TINY["qwen_vae"])
            super().__init__(*args, **kw)

    TinyAutoencoderKLQwenImage.__name__ = real_vae.__name__
    mod.AutoencoderKLQwenImage = TinyAutoencoderKLQwenImage


def _flux_models(mod):
    from dataclasses import replace

    spec = mod.configs_flux_dev_context
    spec.params = replace(spec.params, **TINY["flux_dit"])
    spec.ae_params = replace(spec.ae_params, **TINY["flux_ae"])


def _flux_utils(mod):
    real_clip, real_t5 = mod.CLIPConfig, mod.T5Config

    def clip_config(**kw):
        kw.update(TINY["clip_l"])
        return real_clip(**kw)

    def t5_config(**kw):
        kw.update(TINY["t5xxl"])
        return real_t5(**kw)

    mod.CLIPConfig, mod.T5Config = clip_config, t5_config


def _flux2_models(mod):
    from dataclasses import dataclass

    @dataclass
    class TinyAutoEncoderParams(mod.AutoEncoderParams):
        ch: int = TINY["flux2_ae"]["ch"]
        num_res_blocks: int = TINY["flux2_ae"]["num_res_blocks"]

    TinyAutoEncoderParams.__name__ = "AutoEncoderParams"
    mod.AutoEncoderParams = TinyAutoEncoderParams


def _flux2_utils(mod):
    from dataclasses import replace

    mod.OUTPUT_LAYERS_QWEN3 = TINY["flux2_qwen3_layers"]
    for version, info in list(mod.FLUX2_MODEL_INFO.items()):
        if version.startswith("klein"):
            mod.FLUX2_MODEL_INFO[version] = replace(info, params=replace(info.params, **TINY["flux2_dit"]))


def _krea2_encoder(mod):
    # the config is a module-level dict musubi builds the model from (Qwen3VLConfig.from_dict): shrink it in place
    cfg = mod.QWEN3_VL_4B_INSTRUCT_CONFIG
    cfg["text_config"].update(TINY["qwen3_vl_text"])
    cfg["vision_config"].update(TINY["qwen3_vl_vision"])
    # select_layers is a default argument (bound when the function was defined): the tiny encoder has 3 hidden states
    real = mod.load_qwen3_vl_conditioner

    def load_qwen3_vl_conditioner(model_path, **kw):
        kw["select_layers"] = TINY["krea2_select_layers"]
        return real(model_path, **kw)

    mod.load_qwen3_vl_conditioner = load_qwen3_vl_conditioner


def _krea2_utils(mod):
    # the one config instance every loader takes as its default argument: shrink it in place
    for name, value in TINY["krea2_dit"].items():
        setattr(mod.single_mmdit_large_wide, name, value)


def _ideogram4_constants(mod):
    # a module-level tuple the model and utils import by name (after this patch ran)
    mod.QWEN3_VL_ACTIVATION_LAYERS = TINY["ideogram4_taps"]


def _ideogram4_model(mod):
    from dataclasses import dataclass

    fields = TINY["ideogram4_dit"]

    # the loaders build `config or Ideogram4Config()`: a dataclass with the tiny defaults, by the name they import
    @dataclass
    class TinyIdeogram4Config(mod.Ideogram4Config):
        emb_dim: int = fields["emb_dim"]
        num_layers: int = fields["num_layers"]
        num_heads: int = fields["num_heads"]
        intermediate_size: int = fields["intermediate_size"]
        adanln_dim: int = fields["adanln_dim"]
        llm_features_dim: int = fields["llm_features_dim"]
        mrope_section: tuple = fields["mrope_section"]

    TinyIdeogram4Config.__name__ = "Ideogram4Config"
    mod.Ideogram4Config = TinyIdeogram4Config


def _ideogram4_utils(mod):
    # Qwen3-VL-8B's config is a module-level dict musubi builds the encoder from: the same tiny sizes as Krea 2's
    cfg = mod.QWEN3_VL_8B_INSTRUCT_CONFIG
    cfg["text_config"].update(TINY["qwen3_vl_text"])
    cfg["vision_config"].update(TINY["qwen3_vl_vision"])


def _hidream_o1_model(mod):
    # Qwen3VLModel finds the timestep token by the real tokenizer's id of <|tms_token|> (151673), hard-coded in its
    # __init__; the tiny tokenizer's vocabulary (1024) gives it another id
    real_init = mod.Qwen3VLModel.__init__

    def __init__(self, config):
        real_init(self, config)
        self.tms_token_id = TINY["hidream_tms_token_id"]

    mod.Qwen3VLModel.__init__ = __init__
def _hv15_models(mod):
    import inspect
    import textwrap

    cls = mod.HunyuanVideo_1_5_DiffusionTransformer
    src = textwrap.dedent(inspect.getsource(cls.__init__))
    for old, new in TINY["hv15_dit_source"]:
        assert old in src, f"HunyuanVideo 1.5 DiT source changed: {old!r} not found"
        src = src.replace(old, new)
    scope = {}
    exec(compile(src, inspect.getsourcefile(cls), "exec"), mod.__dict__, scope)
    cls.__init__ = scope["__init__"]


def _hv15_vae(mod):
    real = mod.AutoencoderKLConv3D

    class TinyAutoencoderKLConv3D(real):
        def __init__(self, *args, **kw):
            kw.update(TINY["hv15_vae"])
            super().__init__(*args, **kw)

    TinyAutoencoderKLConv3D.__name__ = real.__name__
    mod.AutoencoderKLConv3D = TinyAutoencoderKLConv3D
    # I2V's SigLIP is built from a module dict of FramePack's, read at each load: shrunk here, as every hv_1_5_*
    # script that loads it (the latent cache, training) imports this VAE module
    from musubi_tuner.frame_pack import framepack_utils

    framepack_utils.IMAGE_ENCODER_CONFIG.update(TINY["hv15_siglip"])


def _hv15_text_encoder(mod):
    _with_tiny(mod, "T5Config", "hv15_byt5")


def _k5_configs(mod):
    from dataclasses import replace

    for name, conf in list(mod.TASK_CONFIGS.items()):
        if conf.vae.name == "hunyuan":
            mod.TASK_CONFIGS[name] = replace(conf, dit_params=replace(conf.dit_params, **TINY["k5_dit"]))
def _fpack_utils(mod):
    # the text and image encoders' configs are module dicts read at each load (framepack_utils.py)
    mod.LLAMA_CONFIG.update(TINY["fpack_llama"])
    mod.CLIP_CONFIG.update(TINY["clip_l"])
    mod.IMAGE_ENCODER_CONFIG.update(TINY["fpack_siglip"])
    # FramePack fixes the VAE at fp16 (framepack_utils.load_vae; the cache script refuses --vae_dtype). A CPU runs
    # fp16 3D convolutions many times slower than fp32 (the tiny VAE on a 37-frame clip: 4 minutes, in fp32 6 s), so
    # without a CUDA device the VAE is loaded in fp32 (its latents are cached in fp32 then; training casts them)
    import torch

    real_load = mod.hunyuan_load_vae

    def hunyuan_load_vae(*args, **kw):
        if not torch.cuda.is_available():
            kw["vae_dtype"] = torch.float32
        return real_load(*args, **kw)

    mod.hunyuan_load_vae = hunyuan_load_vae


def _fpack_dit(mod):
    # load_packed_model passes its fixed config as keywords; the inference subclass inherits this __init__
    real_init = mod.HunyuanVideoTransformer3DModelPacked.__init__

    def __init__(self, *args, **kw):
        kw.update(TINY["fpack_dit"])
        real_init(self, *args, **kw)

    mod.HunyuanVideoTransformer3DModelPacked.__init__ = __init__


def _hunyuan_vae(mod):
    # hunyuan_model/vae.py load_vae builds it with from_config and a config JSON local to the function
    cls = mod.AutoencoderKLCausal3D
    real_from_config = cls.from_config.__func__

    def from_config(klass, config=None, **kw):
        return real_from_config(klass, {**dict(config), **TINY["hunyuan_vae"]}, **kw)

    cls.from_config = classmethod(from_config)


BEFORE = {"musubi_tuner.wan.modules.t5": _wan_t5_before}

PATCHES = {
    "musubi_tuner.flux_2.flux2_models": _flux2_models,
    "musubi_tuner.flux_2.flux2_utils": _flux2_utils,
    "musubi_tuner.flux.flux_models": _flux_models,
    "musubi_tuner.flux.flux_utils": _flux_utils,
    "musubi_tuner.qwen_image.qwen_image_model": _qwen_model,
    "musubi_tuner.qwen_image.qwen_image_utils": _qwen_utils,
    "musubi_tuner.wan.configs": _wan_configs,
    "musubi_tuner.wan.modules.model": _wan_model,
    "musubi_tuner.wan.modules.t5": _wan_t5,
    "musubi_tuner.wan.modules.clip": _wan_clip,
    "musubi_tuner.wan.modules.vae": _wan_vae,
    "musubi_tuner.zimage.zimage_config": _zimage_config,
    "musubi_tuner.zimage.zimage_utils": _zimage_utils,
    "musubi_tuner.zimage.zimage_autoencoder": _zimage_autoencoder,
    "musubi_tuner.krea2.krea2_encoder": _krea2_encoder,
    "musubi_tuner.krea2.krea2_utils": _krea2_utils,
    "musubi_tuner.ideogram4.constants": _ideogram4_constants,
    "musubi_tuner.ideogram4.ideogram4_model": _ideogram4_model,
    "musubi_tuner.ideogram4.ideogram4_utils": _ideogram4_utils,
    "musubi_tuner.hidream_o1.qwen3_vl_transformers": _hidream_o1_model,
    "musubi_tuner.hunyuan_video_1_5.hunyuan_video_1_5_models": _hv15_models,
    "musubi_tuner.hunyuan_video_1_5.hunyuan_video_1_5_vae": _hv15_vae,
    "musubi_tuner.hunyuan_video_1_5.hunyuan_video_1_5_text_encoder": _hv15_text_encoder,
    "musubi_tuner.kandinsky5.configs": _k5_configs,
    "musubi_tuner.frame_pack.framepack_utils": _fpack_utils,
    "musubi_tuner.frame_pack.hunyuan_video_packed": _fpack_dit,
    "musubi_tuner.hunyuan_model.autoencoder_kl_causal_3d": _hunyuan_vae,
}


class _PatchingFinder:
    """A meta-path finder that lets the normal finders locate a module, then wraps its loader."""

    def find_spec(self, name, path=None, target=None):
        if name not in PATCHES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                loader = spec.loader
                real_exec = loader.exec_module

                def exec_module(module, _real=real_exec, _name=name):
                    if _name in BEFORE:
                        BEFORE[_name](module)
                    _real(module)
                    PATCHES[_name](module)
                    print(f"[lw-tiny] patched {_name}", file=sys.stderr, flush=True)

                loader.exec_module = exec_module
                return spec
        return None


if os.environ.get("LW_TINY_MUSUBI") == "1":
    sys.meta_path.insert(0, _PatchingFinder())
