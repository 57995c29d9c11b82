"""musubi Qwen2.5-VL backend: the command checked against the CLI spec, run on a stand-in script."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from server.paths import DataLayout
from server.tagging.base import Item, TaggingError
from server.tagging.config import build_options
from server.tagging.musubi_cli import SCRIPT, SCRIPT_NAME, build_argv
from server.tagging.musubi_qwen_vl import MusubiQwenVLBackend, QwenOptions, parse_jsonl_lines
from server.training import cli_spec

STANDIN = Path(__file__).with_name("musubi_standin.py")
FIXTURE_SPEC = Path(__file__).resolve().parent.parent / "fixtures" / "musubi-cli-spec.json"


@pytest.fixture
def musubi(tmp_path) -> Path:
    root = tmp_path / "musubi-tuner"
    (root / SCRIPT).parent.mkdir(parents=True)
    shutil.copy(STANDIN, root / SCRIPT)
    return root


@pytest.fixture
def model(tmp_path) -> Path:
    path = tmp_path / "qwen_2.5_vl_7b.safetensors"
    path.write_bytes(b"stand-in")
    return path


def backend(musubi: Path, model: Path, **overrides) -> MusubiQwenVLBackend:
    opts = {"musubi_dir": str(musubi), "musubi_python": sys.executable, "model_path": str(model), **overrides}
    layout = DataLayout(model.parent / "data").ensure()
    return MusubiQwenVLBackend(build_options(QwenOptions, None, opts), layout=layout)


def images(folder: Path, sizes) -> list[Item]:
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for i, (name, size) in enumerate(sizes):
        Image.new("RGB", size, (i * 40, 90, 30)).save(folder / name)
        items.append(Item.from_path(folder / name, item_id=f"it{i}"))
    return items


def test_the_spec_in_use_is_the_pinned_fixture():
    fixture = json.loads(FIXTURE_SPEC.read_text())["scripts"][SCRIPT]
    assert {o["dest"] for o in fixture} == {o.dest for o in cli_spec.load_spec()[SCRIPT_NAME].values()}


def test_command_parses_with_the_cli_spec(musubi, model, tmp_path):
    b = backend(musubi, model, prompt="Describe {trigger}.\n- be brief", trigger="ohwx", fp8_vl=True,
                max_new_tokens=256, max_size=896)
    argv = b.command(tmp_path / "imgs", tmp_path / "out.jsonl")
    assert argv[:2] == [sys.executable, str(musubi / SCRIPT)]
    values, problems = cli_spec.parse(SCRIPT_NAME, argv[2:])
    assert problems == []
    assert values == {"image_dir": str(tmp_path / "imgs"), "model_path": str(model), "output_format": "jsonl",
                      "output_file": str(tmp_path / "out.jsonl"), "max_new_tokens": 256, "max_size": 896,
                      "fp8_vl": True, "prompt": "Describe ohwx.\n- be brief"}
    # An empty prompt leaves musubi's own default prompt in charge.
    assert "--prompt" not in backend(musubi, model).command(tmp_path, tmp_path / "o.jsonl")


@pytest.mark.parametrize("values, words", [
    ({"image_dir": "/a"}, "requires --model_path"),
    ({"image_dir": "/a", "model_path": "/m", "output_format": "csv"}, "must be one of jsonl, text"),
    ({"image_dir": "/a", "model_path": "/m", "max_size": "large"}, "expects int"),
    ({"image_dir": "/a", "model_path": "/m", "device": "cuda"}, "has no option --device"),
    ({"image_dir": "/a", "model_path": "/m", "fp8_vl": "yes"}, "is a switch"),
])
def test_argv_that_would_not_parse_is_refused(values, words):
    with pytest.raises(TaggingError) as err:
        build_argv(values)
    assert words in err.value.message and err.value.code == "bad_musubi_option"


def test_captions_come_back_per_item_from_jsonl(musubi, model, tmp_path, monkeypatch):
    items = images(tmp_path / "media", [("b.PNG", (40, 30)), ("a photo.jpg", (20, 50)), ("c.webp", (8, 8))])
    argv_file = tmp_path / "argv.json"
    monkeypatch.setenv("STANDIN_ARGV", str(argv_file))
    results = list(backend(musubi, model).caption_many(items))
    got = {r.item.id: r.caption for r in results}
    assert all(r.ok for r in results) and len(results) == 3
    assert got["it0"].startswith("000000.png 40x30 fp8=False")
    assert got["it1"].startswith("000001.jpg 20x50")
    assert got["it2"].startswith("000002.webp 8x8")
    argv = json.loads(argv_file.read_text())
    staged = Path(argv[argv.index("--image_dir") + 1])
    assert staged.parent.parent == tmp_path / "data" / "cache" / "tagging"
    # The dataset folder is untouched (no .txt beside the media) and the staging folder is gone.
    assert sorted(p.name for p in (tmp_path / "media").iterdir()) == ["a photo.jpg", "b.PNG", "c.webp"]
    assert not staged.parent.exists()


def test_text_output_format_is_read_back(musubi, model, tmp_path):
    items = images(tmp_path / "media", [("x.png", (10, 12))])
    (result,) = backend(musubi, model, output_format="text", fp8_vl=True).caption_many(items)
    assert result.ok and result.caption.startswith("000000.png 10x12 fp8=True")
    assert not (tmp_path / "media" / "x.txt").exists()


def test_a_crash_fails_the_rest_with_the_scripts_last_words(musubi, model, tmp_path, monkeypatch):
    monkeypatch.setenv("STANDIN_FAIL_AFTER", "1")
    items = images(tmp_path / "media", [("1.png", (9, 9)), ("2.png", (9, 9)), ("3.png", (9, 9))])
    results = {r.item.id: r for r in backend(musubi, model).caption_many(items)}
    assert results["it0"].ok
    for key in ("it1", "it2"):
        assert results[key].code == "musubi_failed"
        assert "exit code 1" in results[key].error and "CUDA out of memory" in results[key].error


def test_videos_are_refused_and_stop_ends_the_process(musubi, model, tmp_path, monkeypatch):
    monkeypatch.setenv("STANDIN_DELAY", "0.5")
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    items = [Item.from_path(video)] + images(tmp_path / "media", [(f"{i}.png", (9, 9)) for i in range(10)])
    b = backend(musubi, model)
    stream = b.caption_many(items)
    first = next(stream)
    assert first.code == "unsupported_media"
    second = next(stream)
    assert second.ok
    started = time.monotonic()
    b.stop()
    assert list(stream) == []
    assert b.process.poll() is not None and time.monotonic() - started < 5


def test_missing_setup_is_explained(tmp_path, model):
    with pytest.raises(TaggingError) as err:
        backend(tmp_path / "nowhere", model).load()
    assert err.value.code == "musubi_script_missing"


def test_parse_jsonl_skips_junk():
    lines = ['{"image_path": "/x/000001.png", "caption": "a"}', "not json", '{"other": 1}', ""]
    assert list(parse_jsonl_lines(lines)) == [("000001.png", "a")]
