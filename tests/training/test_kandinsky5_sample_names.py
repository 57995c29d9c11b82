"""Kandinsky 5's samples are listed: its sampler names them by step and prompt alone (sample_000002_00.png and .mp4,
kandinsky5_train_network.py sample_images), not by the output name as every other musubi sampler does."""

from __future__ import annotations

from server.training import outputs


def test_kandinsky5_samples_are_listed_by_step_and_prompt(tmp_path):
    folder = tmp_path / "sample"
    folder.mkdir()
    for name in ("sample_000002_00.png", "sample_000002_00.mp4", "sample_000004_01.png",
                 "sample_2_00.png", "sample_000002_00_extra.png"):     # not Kandinsky 5's names
        (folder / name).write_bytes(b"x")
    found = {s["file"]: (s["epoch"], s["step"], s["prompt_index"], s["seed"], s["kind"], s["segment"])
             for s in outputs.samples(tmp_path, [outputs.Segment("lora")])}
    assert found == {"sample/sample_000002_00.png": (None, 2, 0, None, "image", "lora"),
                     "sample/sample_000002_00.mp4": (None, 2, 0, None, "video", "lora"),
                     "sample/sample_000004_01.png": (None, 4, 1, None, "image", "lora")}
    # a resumed run restarts musubi's step count and writes over the same names: the newest segment's
    resumed = [outputs.Segment("lora"), outputs.Segment("lora-r1", epoch_offset=3, step_offset=30)]
    assert sorted((s["step"], s["segment"]) for s in outputs.samples(tmp_path, resumed)) == [
        (32, "lora-r1"), (32, "lora-r1"), (34, "lora-r1")]
    # the live watcher announces them like any sample
    watcher = outputs.OutputWatcher(tmp_path, [outputs.Segment("lora")])
    (folder / "sample_000006_00.png").write_bytes(b"x")
    assert [(kind, s["step"]) for kind, s in watcher.poll()] == [("sample", 6)]
