"""musubi output parsing and output-file name parsing, on the REAL output of the real trainer
(tests/fixtures/musubi-real-output/, copied unchanged from shared/musubi/real-output/)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from server.training import exit_status, outputs
from server.training.cache_total import expected_batches
from server.training.progress import (ProgressParser, find_bars, last_error_line, launcher_wrapper,
                                      parse_clock)

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "musubi-real-output"
STANDIN = Path(__file__).resolve().parents[1] / "standin" / "fake_musubi" / "src" / "musubi_tuner"


def real(name: str) -> str:
    return (REAL / name).read_text(encoding="utf-8")


def feed(parser: ProgressParser, text: str, size: int) -> ProgressParser:
    for i in range(0, len(text), size):
        parser.feed(text[i:i + size])
    return parser


# The loss that belongs to each step, read off the logs by hand: the LAST `avr_loss` shown while the
# bar reads that step. wan step 3 and epochs step 4 are first redrawn with the previous step's value.
REAL_TRAINING = {
    "zimage_3_train.log": {"losses": [(1, 1, 1.35), (2, 1, 1.34), (3, 1, 1.34), (4, 1, 1.32)], "epochs": 1,
                           "items": 4, "samples": [2, 4, 4], "checkpoints": ["tiny-step00000002", "tiny-step00000004", "tiny"]},
    "wan_3_train.log": {"losses": [(1, 1, 1.16), (2, 1, 1.16), (3, 2, 1.15), (4, 2, 1.21)], "epochs": 2,
                        "items": 2, "samples": [2, 2, 4, 4], "checkpoints": ["tiny-step00000002", "tiny-step00000004", "tiny"]},
    "extra_epochs.log": {"losses": [(1, 1, 1.32), (2, 1, 1.37), (3, 1, 1.36), (4, 1, 1.38), (5, 2, 1.38),
                                    (6, 2, 1.36), (7, 2, 1.35), (8, 2, 1.31)], "epochs": 2, "items": 4,
                         "samples": [0, 4, 8], "checkpoints": ["tiny-000001", "tiny"]},
    "extra_resume.log": {"losses": [(1, 1, 1.25), (2, 1, 1.28), (3, 1, 1.26), (4, 1, 1.3)], "epochs": 1,
                         "items": 4, "samples": [], "checkpoints": ["tiny"]},
}


@pytest.mark.parametrize("name", sorted(REAL_TRAINING))
@pytest.mark.parametrize("size", [1, 13, 4096, 10**7])
def test_real_training_log_gives_each_step_its_own_loss(name, size):
    want = REAL_TRAINING[name]
    parser = feed(ProgressParser("train"), real(name), size)
    parser.flush()
    assert parser.take_losses() == want["losses"]
    r = parser.record
    steps = want["losses"][-1][0]
    assert (r["step"], r["total_steps"], r["percent"]) == (steps, steps, 100.0)
    assert (r["epoch"], r["total_epochs"], r["items"]) == (want["epochs"], want["epochs"], want["items"])
    assert r["phase"] == "saved" and r["loss"] == want["losses"][-1][2] and r["rate_unit"] in ("it/s", "s/it")
    notices = parser.take_notices()
    assert [n["step"] for n in notices if n["type"] == "sample"] == want["samples"]
    assert [Path(n["path"]).name for n in notices if n["type"] == "checkpoint"] == \
        [f"{stem}.safetensors" for stem in want["checkpoints"]]


def test_a_step_is_committed_when_the_bar_moves_on_and_offsets_apply():
    """Live: the step being redrawn is not a point yet (its loss may still change); resumed runs
    map musubi's restarted counters to the task's."""
    text = real("wan_3_train.log")
    cut = text.index("3/4 [00:04<00:01,  1.47s/it, avr_loss=1.16]") + 60   # step 3, first redraw only
    parser = feed(ProgressParser("train", step_offset=10, epoch_offset=3), text[:cut], 7)
    assert parser.take_losses() == [(11, 4, 1.16), (12, 4, 1.16)]
    assert (parser.record["step"], parser.record["loss"], parser.record["epoch"]) == (13, 1.16, 5)
    parser.feed(text[cut:])
    parser.flush()
    assert parser.take_losses() == [(13, 5, 1.15), (14, 5, 1.21)]
    assert (parser.record["total_steps"], parser.record["total_epochs"]) == (14, 5)


def test_model_saved_arrives_as_a_logger_line():
    text = real("zimage_3_train.log")
    line = "INFO:musubi_tuner.training.trainer_base:model saved."
    at = text.index(line)
    parser = feed(ProgressParser("train"), text[:at], 64)
    assert parser.record["phase"] != "saved"
    parser.feed(text[at:at + len(line) + 1])
    assert parser.record["phase"] == "saved"
    parser.feed(text[at + len(line) + 1:])   # tqdm's closing redraw does not take it back
    parser.flush()
    assert parser.record["phase"] == "saved"


def test_sampling_phase_and_other_bars_ignored():
    text = real("zimage_3_train.log")
    at = text.index("Sampling:   0%")
    parser = feed(ProgressParser("train"), text[:at + 200], 50)
    assert parser.record["phase"] == "sampling" and parser.record["step"] == 1   # `Sampling: 3/3` is not a step
    assert parser.record["total_steps"] == 4


@pytest.mark.parametrize("name, stage, items", [
    ("zimage_1_cache_latents.log", "cache_latents", 4), ("zimage_2_cache_te.log", "cache_text_encoder", 4),
    ("wan_1_cache_latents.log", "cache_latents", 2), ("wan_2_cache_te.log", "cache_text_encoder", 2)])
def test_real_cache_stage_bars_without_total(name, stage, items):
    text = real(name)
    seen = []
    parser = ProgressParser(stage, expected_total=items)
    for i in range(0, len(text), 9):
        parser.feed(text[i:i + 9])
        seen.append((parser.record["step"], parser.record["total_steps"]))
    parser.flush()
    r = parser.record
    assert (r["step"], r["total_steps"], r["percent"]) == (items, items, 100.0)
    assert r["rate"] and r["rate_unit"] in ("it/s", "s/it") and r["elapsed_s"] is not None
    assert [s for s, _ in dict.fromkeys(seen) if s is not None] == list(range(0, items + 1))
    # Without a total the count still shows; a count past the expected total drops the total.
    alone = feed(ProgressParser(stage), text, 4096)
    assert (alone.record["step"], alone.record["total_steps"], alone.record["percent"]) == (items, None, None)
    short = feed(ProgressParser(stage, expected_total=items - 1), text, 4096)
    assert (short.record["step"], short.record["total_steps"]) == (items, None)


def test_cache_bars_of_several_datasets_add_up():
    one = real("zimage_1_cache_latents.log")
    parser = feed(ProgressParser("cache_latents", expected_total=8), one + one.replace("dataset [0]", "dataset [1]"), 100)
    assert (parser.record["step"], parser.record["total_steps"]) == (8, 8)


def test_standin_bar_formatter_redraws_every_real_bar():
    """The stand-in draws its bars with real_output.meter: it must give back every bar of the real
    logs byte for byte from the numbers in it (tqdm's format, incl. `?it/s`, `s/it`, partial blocks)."""
    sys.path.insert(0, str(STANDIN))
    try:
        import real_output
    finally:
        sys.path.remove(str(STANDIN))
    count = 0
    for log in sorted(REAL.glob("*.log")):
        for segment in re.split(r"\r|\n", log.read_text(encoding="utf-8")):
            for m in find_bars(segment):
                d = m.groupdict()
                rate = None if d["rate"] == "?" else float(d["rate"])
                if rate and d["unit"] == "s/it":
                    rate = 1 / rate
                total = int(d["total"]) if d.get("total") else None
                drawn = real_output.meter((d["desc"] or "").strip(), int(d["n"]), total, parse_clock(d["elapsed"]),
                                          rate, d["postfix"] or "")
                assert drawn == m.group(0).strip(), log.name
                count += 1
    assert count > 80


def parsed_shapes(text: str) -> set[str]:
    """The form of every line the parser acts on, without its numbers, paths and bar cells: what
    the stand-in must print exactly like the real musubi (tests/training/test_runner.py)."""
    from server.training import progress
    acted_on = (progress.EPOCH, progress.TOTAL_STEPS, progress.NUM_EPOCHS, progress.NUM_ITEMS, progress.CHECKPOINT,
                progress.SAMPLE, progress.MODEL_SAVED, progress.ENCODING_DATASET)
    shapes = set()
    for segment in re.split(r"\r|\n", text):
        bars = find_bars(segment)
        for m in bars:
            # Numbers are padded to their width (` 5.14it/s`, `200.00it/s`): the padding goes with them.
            shapes.add("bar " + re.sub(r" *\d+(\.\d+)?", "N", re.sub(r"\|[^|]*\|", "|B|", m.group(0).strip())))
        rest = segment[bars[-1].end():] if bars else segment
        if any(r.search(rest) for r in acted_on):
            rest = re.sub(r"(saving checkpoint: ).*", r"\1<path>", rest)
            shapes.add(re.sub(r"\d+", "N", rest))
    return shapes


REAL_SHAPES = set().union(*(parsed_shapes(real(p.name)) for p in REAL.glob("*.log")))


def test_real_shapes_cover_what_the_parser_reads():
    kinds = {"bar steps", "bar Nit", "epoch", "total optimization steps", "num epochs", "num train items",
             "saving checkpoint", "generating sample images", "model saved.", "Encoding dataset"}
    assert all(any(kind in shape for shape in REAL_SHAPES) for kind in kinds)


# --- failures ----------------------------------------------------------------------------------

FAILED_RUN = """\
INFO:musubi_tuner.training.trainer_base:use AdamW optimizer | {}
running training / 学習開始
  total optimization steps / 学習ステップ数: 40
\rsteps:   0%|          | 0/40 [00:00<?, ?it/s]
epoch 1/20
\rsteps:   2%|▎         | 1/40 [00:01<00:39,  1.01s/it, avr_loss=0.5]Traceback (most recent call last):
  File "/m/src/musubi_tuner/zimage_train_network.py", line 300, in <module>
    main()
  File "/m/src/musubi_tuner/training/trainer_base.py", line 2043, in train
    model_pred, target = self.call_dit(args, accelerator, transformer, latents, batch)
                         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.
Traceback (most recent call last):
  File "<frozen runpy>", line 198, in _run_module_as_main
  File "/venv/lib/python3.11/site-packages/accelerate/commands/launch.py", line 999, in simple_launcher
    raise subprocess.CalledProcessError(returncode=process.returncode, cmd=cmd)
subprocess.CalledProcessError: Command '['/venv/bin/python', 'src/musubi_tuner/zimage_train_network.py', \
'--dit', 'x']' returned non-zero exit status 1.
"""


def test_failure_line_is_musubis_not_the_launcher_wrapper():
    assert last_error_line(FAILED_RUN) == "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB."
    assert launcher_wrapper(FAILED_RUN) == {"status": 1}
    # An exception without the word Error (voluptuous) is still the line after the traceback.
    rejected = FAILED_RUN.replace("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.",
                                  "voluptuous.error.MultipleInvalid: extra keys not allowed @ data['x']")
    assert last_error_line(rejected) == "voluptuous.error.MultipleInvalid: extra keys not allowed @ data['x']"


def test_a_killed_trainer_has_no_error_line_to_quote():
    killed = (FAILED_RUN.split("Traceback")[0].rstrip("\r\n ") + "\nTraceback" + FAILED_RUN.split("Traceback")[2]) \
        .replace("returned non-zero exit status 1.", "died with <Signals.SIGKILL: 9>.")
    assert last_error_line(killed) == ""              # not `epoch 1/20`, not the wrapper
    assert launcher_wrapper(killed) == {"signal": "SIGKILL", "signum": 9}
    info = exit_status.describe(1, wrapper=launcher_wrapper(killed))
    assert info == {"code": "trainer_signal", "signal": "SIGKILL", "number": 9, "hint": "oom"}
    assert "signal SIGKILL (9)" in exit_status.english("train", info)
    assert last_error_line("all good\nepoch 1/20\n") == ""
    # Errors that end a run without a traceback: argparse's, and musubi's logger.
    assert last_error_line("usage: x.py [-h]\nzimage_train_network.py: error: unrecognized arguments: --foo\n"
                           + "Traceback" + FAILED_RUN.split("Traceback")[2]) == \
        "zimage_train_network.py: error: unrecognized arguments: --foo"
    assert last_error_line("INFO:a:b\nERROR:musubi_tuner.x:No video generated\nepoch 1/2\n") == \
        "ERROR:musubi_tuner.x:No video generated"
    # On Windows the trainer's crash reaches the log only through the launcher's wrapper.
    windows = FAILED_RUN.replace("returned non-zero exit status 1.", "returned non-zero exit status 3221225477.")
    info = exit_status.describe(1, wrapper=launcher_wrapper(windows), platform="win32")
    assert (info["code"], info["status"], info["name"]) == ("windows_status", "0xC0000005", "STATUS_ACCESS_VIOLATION")
    assert parse_clock("1:02:03") == 3723 and parse_clock("?") is None


@pytest.mark.parametrize("code, platform, want", [
    (-9, "linux", {"code": "signal", "signal": "SIGKILL", "number": 9}),
    (-15, "linux", {"code": "signal", "signal": "SIGTERM", "number": 15}),
    (247, "linux", {"code": "exit_code_signal", "signal": "SIGKILL", "number": 9, "exit_code": 247}),
    (137, "linux", {"code": "exit_code_signal", "signal": "SIGKILL", "number": 9, "exit_code": 137}),
    (1, "linux", {"code": "exit_code", "exit_code": 1}),
    (3221225477, "win32", {"code": "windows_status", "status": "0xC0000005", "name": "STATUS_ACCESS_VIOLATION"}),
    (-1073741819, "win32", {"code": "windows_status", "status": "0xC0000005", "name": "STATUS_ACCESS_VIOLATION"}),
    (-1073741510, "win32", {"code": "windows_status", "status": "0xC000013A", "name": "STATUS_CONTROL_C_EXIT"}),
    (3221226505, "win32", {"code": "windows_status", "status": "0xC0000409", "name": "STATUS_STACK_BUFFER_OVERRUN"}),
    (-9, "win32", {"code": "windows_status", "status": "0xFFFFFFF7", "name": None}),
    (1, "win32", {"code": "exit_code", "exit_code": 1}),
])
def test_exit_codes_read_sensibly(code, platform, want):
    info = exit_status.describe(code, platform=platform)
    assert {k: v for k, v in info.items() if k != "hint"} == want
    text = exit_status.english("train", info)
    assert "247" not in text or "SIGKILL" in text
    assert (want.get("signal") or want.get("status") or str(code)) in text


# --- output names --------------------------------------------------------------------------------

def _files_of_the_real_run(root: Path, run: str) -> Path:
    for line in real("files.txt").split():
        path = Path(line.replace("<work>", str(root)))
        if f"/out/{run}/" in line:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"x")
    return root / "out" / run


def test_outputs_of_the_real_runs_are_all_listed(tmp_path):
    segments = [outputs.Segment("tiny")]
    zimage = _files_of_the_real_run(tmp_path, "zimage")
    samples = outputs.samples(zimage, segments)
    assert sorted((s["step"] or 0, s["epoch"] or 0, s["seed"], s["kind"], s["prompt_index"]) for s in samples) == [
        (0, 1, 42, "image", 0), (2, 0, 42, "image", 0), (4, 0, 42, "image", 0)]
    assert {s["file"] for s in samples} == {f"sample/{p.name}" for p in (zimage / "sample").iterdir()}
    ckpts = {c["file"]: (c["kind"], c["step"]) for c in outputs.checkpoints(zimage, segments)}
    assert ckpts == {"tiny-step00000002.safetensors": ("step", 2), "tiny-step00000004.safetensors": ("step", 4),
                     "tiny.safetensors": ("final", None)}
    assert sorted(s["dir"] for s in outputs.states(zimage, segments)) == [
        "tiny-state", "tiny-step00000002-state", "tiny-step00000004-state"]

    wan = _files_of_the_real_run(tmp_path, "wan")
    videos = outputs.samples(wan, segments)
    assert sorted((s["step"] or 0, s["epoch"] or 0, s["seed"], s["kind"]) for s in videos) == [
        (0, 1, 42, "video"), (0, 2, 42, "video"), (2, 0, 42, "video"), (4, 0, 42, "video")]
    assert len(videos) == len(list((wan / "sample").iterdir()))


def test_sample_names_without_seed_and_resumed_segments(tmp_path):
    folder = tmp_path / "sample"
    folder.mkdir()
    for name in ("lora_e000001_00_20260101120000_000.png",        # no seed: `_000` is the image index
                 "lora_000050_01_20260101120500.mp4", "lora-r1_e000002_00_20260101130000_7_000.png",
                 "lora_000050_01_20260101120500_42.png",           # an image without its index: not musubi's
                 "unrelated.png"):
        (folder / name).write_bytes(b"x")
    segments = [outputs.Segment("lora"), outputs.Segment("lora-r1", epoch_offset=3, step_offset=30)]
    found = {s["file"]: (s["epoch"], s["step"], s["prompt_index"], s["seed"], s["kind"])
             for s in outputs.samples(tmp_path, segments)}
    assert found == {"sample/lora_e000001_00_20260101120000_000.png": (1, None, 0, None, "image"),
                     "sample/lora_000050_01_20260101120500.mp4": (None, 50, 1, None, "video"),
                     "sample/lora-r1_e000002_00_20260101130000_7_000.png": (5, None, 0, 7, "image")}


def test_output_names(tmp_path):
    out = tmp_path
    for name in ("lora-000001.safetensors", "lora-step00000050.safetensors", "lora.safetensors",
                 "lora-r1-000002.safetensors", "other.safetensors", "lora-comfy.safetensors"):
        (out / name).write_bytes(b"x")
    for name in ("lora-000001-state", "lora-step00000050-state", "lora-r1-000002-state"):
        (out / name).mkdir()
    segments = [outputs.Segment("lora"), outputs.Segment("lora-r1", epoch_offset=3, step_offset=30)]
    ckpts = {c["file"]: (c["kind"], c["epoch"], c["step"]) for c in outputs.checkpoints(out, segments)}
    assert ckpts == {"lora-000001.safetensors": ("epoch", 1, None), "lora-step00000050.safetensors": ("step", None, 50),
                     "lora.safetensors": ("final", None, None), "lora-r1-000002.safetensors": ("epoch", 5, None)}
    states = {s["dir"]: s["epoch"] or s["step"] for s in outputs.states(out, segments)}
    assert states == {"lora-000001-state": 1, "lora-step00000050-state": 50, "lora-r1-000002-state": 5}


# --- how many batches a cache stage will count ----------------------------------------------------

def test_expected_cache_batches_follow_the_dataset_toml(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    for i in range(5):
        (media / f"img{i}.png").write_bytes(b"x")
        if i != 4:
            (media / f"img{i}.txt").write_text("c", encoding="utf-8")   # img4 has no caption: skipped
    toml = tmp_path / "dataset.toml"

    def write(general: str, entry: str = "") -> list[str]:
        toml.write_text(f"[general]\ncaption_extension = \".txt\"\n{general}\n[[datasets]]\n"
                        f"image_directory = \"{media.as_posix()}\"\ncache_directory = \"c\"\n{entry}", encoding="utf-8")
        return ["python", "x.py", "--dataset_config", str(toml)]

    argv = write("batch_size = 1\nenable_bucket = true")
    assert expected_batches("cache_latents", argv) == 4 and expected_batches("cache_text_encoder", argv) == 4
    argv = write("batch_size = 3\nenable_bucket = true")
    assert expected_batches("cache_latents", argv) is None     # buckets unknown beforehand
    assert expected_batches("cache_text_encoder", argv) == 2
    argv = write("batch_size = 3\nenable_bucket = false")
    assert expected_batches("cache_latents", argv) == 2
    assert expected_batches("train", argv) is None
    argv = write("batch_size = 3\nenable_bucket = true", f"control_directory = \"{media.as_posix()}\"\n")
    assert expected_batches("cache_text_encoder", argv) is None and expected_batches("cache_latents", argv) is None
    argv = write("batch_size = 1\nenable_bucket = true", f"control_directory = \"{media.as_posix()}\"\n")
    assert expected_batches("cache_text_encoder", argv) == 4 == expected_batches("cache_latents", argv)
    assert expected_batches("cache_latents", ["python", "x.py", "--dataset_config", str(tmp_path / "no.toml")]) is None
