"""musubi output parsing and output-file name parsing, on text and names as musubi writes them."""

from __future__ import annotations

from server.training import outputs
from server.training.progress import ProgressParser, last_error_line, parse_clock

BANNER = ("running training / 学習開始\n  num train items / 学習画像、動画数: 40\n"
          "  num epochs / epoch数: 5\n  total optimization steps / 学習ステップ数: 200\n")


def test_banner_epochs_and_tqdm_split_anywhere():
    stream = (BANNER + "\nepoch 1/5\n"
              "steps:   0%|          | 0/200 [00:00<?, ?it/s]"
              "\rsteps:   1%|          | 2/200 [00:05<08:15,  2.50s/it, avr_loss=0.123]"
              "\rsteps:   2%|▏         | 3/200 [00:07<08:12,  2.50s/it, avr_loss=0.118]"
              "\nsaving checkpoint: /out/x-000001.safetensors\n"
              "generating sample images at step / サンプル画像生成 ステップ: 3\n")
    for size in (1, 7, len(stream)):
        parser = ProgressParser("train")
        for i in range(0, len(stream), size):
            parser.feed(stream[i:i + size])
        r = parser.record
        assert (r["items"], r["total_epochs"], r["epoch"]) == (40, 5, 1)
        assert (r["step"], r["total_steps"], r["rate"], r["rate_unit"]) == (3, 200, 2.5, "s/it")
        assert (r["elapsed_s"], r["eta_s"], r["loss"]) == (7, 492, 0.118)
        assert parser.take_losses() == [(2, 1, 0.123), (3, 1, 0.118)]
        notices = parser.take_notices()
        assert [n["type"] for n in notices] == ["checkpoint", "sample"]
        assert notices[0]["path"] == "/out/x-000001.safetensors" and notices[1]["step"] == 3


def test_offsets_for_resumed_runs_and_other_bars_ignored():
    parser = ProgressParser("train", step_offset=100, epoch_offset=2)
    parser.feed(BANNER + "epoch 1/5\n")
    parser.feed("\r100%|██████████| 20/20 [00:03<00:00,  6.0it/s]\n")   # sampling's denoising bar
    assert parser.record["step"] is None
    parser.feed("\rsteps:   5%|▌         | 10/200 [00:01<00:19, 9.81it/s, avr_loss=0.2]\r")
    r = parser.record
    assert (r["step"], r["total_steps"], r["epoch"], r["total_epochs"], r["rate_unit"]) == (110, 300, 3, 7, "it/s")


def test_cache_stage_bars_count():
    parser = ProgressParser("cache_latents")
    parser.feed(" 50%|█████     | 5/10 [00:01<00:01,  4.00it/s]\r")
    assert (parser.record["step"], parser.record["total_steps"], parser.record["percent"]) == (5, 10, 50.0)


def test_last_error_line_and_clock():
    text = ("steps:  10%|█ | 1/10 [00:01<00:09, 1.0it/s]\nTraceback (most recent call last):\n"
            '  File "x.py", line 1\ntorch.OutOfMemoryError: CUDA out of memory.\n\n')
    assert last_error_line(text) == "torch.OutOfMemoryError: CUDA out of memory."
    assert last_error_line("all good\nbye\n") == "bye"
    assert parse_clock("1:02:03") == 3723 and parse_clock("?") is None


def test_output_names(tmp_path):
    out = tmp_path
    (out / "sample").mkdir()
    for name in ("lora-000001.safetensors", "lora-step00000050.safetensors", "lora.safetensors",
                 "lora-r1-000002.safetensors", "other.safetensors", "lora-comfy.safetensors"):
        (out / name).write_bytes(b"x")
    for name in ("lora-000001-state", "lora-step00000050-state", "lora-r1-000002-state"):
        (out / name).mkdir()
    for name in ("lora_e000001_00_20260101120000_42.png", "lora_000050_01_20260101120500.mp4",
                 "lora-r1_e000002_00_20260101130000.png", "unrelated.png"):
        (out / "sample" / name).write_bytes(b"x")
    segments = [outputs.Segment("lora"), outputs.Segment("lora-r1", epoch_offset=3, step_offset=30)]
    ckpts = {c["file"]: (c["kind"], c["epoch"], c["step"]) for c in outputs.checkpoints(out, segments)}
    assert ckpts == {"lora-000001.safetensors": ("epoch", 1, None), "lora-step00000050.safetensors": ("step", None, 50),
                     "lora.safetensors": ("final", None, None), "lora-r1-000002.safetensors": ("epoch", 5, None)}
    states = {s["dir"]: s["epoch"] or s["step"] for s in outputs.states(out, segments)}
    assert states == {"lora-000001-state": 1, "lora-step00000050-state": 50, "lora-r1-000002-state": 5}
    samples = {s["file"]: (s["epoch"], s["step"], s["prompt_index"], s["seed"], s["kind"])
               for s in outputs.samples(out, segments)}
    assert samples == {"sample/lora_e000001_00_20260101120000_42.png": (1, None, 0, 42, "image"),
                       "sample/lora_000050_01_20260101120500.mp4": (None, 50, 1, None, "video"),
                       "sample/lora-r1_e000002_00_20260101130000.png": (5, None, 0, None, "image")}
