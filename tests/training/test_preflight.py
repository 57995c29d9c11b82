"""The pre-flight report (preflight.py on dataset_checks.py), the start path refusing on it, the time
estimate (estimate.py) and the data accounting after a run (accounting.py).
Bucket figures equal musubi's own: test_buckets_musubi.py."""

from __future__ import annotations

from pathlib import Path

from server.training import accounting, buckets, config, preflight, task_types, tasks

from .conftest import add_dataset, point_at_standin, qwen_task
from .helpers import raw_config, source
from .media import png, video

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "musubi-real-output"


def _report(root: Path, dataset_type="image", task_type="qwen-image-lora", variant="original", trigger=None,
            samples=None, **dataset):
    ttype = task_types.get(task_type)
    raw = raw_config(ttype, variant, sampling=False)
    raw["dataset"] = dataset
    if samples:
        raw["samples"] = samples
    return preflight.build(config.resolve(config.check(raw)), source(dataset_type, root), trigger=trigger)


def _by_code(report) -> dict:
    return {f["code"]: f for f in report["findings"]}


def _folders(root: Path) -> Path:
    (root / "media").mkdir(parents=True)
    (root / "control").mkdir()
    return root / "media"


def test_report_names_the_files_of_each_problem(tmp_path):
    media = _folders(tmp_path)
    png(media / "big.png", (1024, 1024), (1, 2, 3))
    (media / "big.txt").write_text("sks cat", encoding="utf-8")
    png(media / "copy.png", (1024, 1024), (1, 2, 3))        # same bytes as big.png
    (media / "copy.txt").write_text("sks cat again", encoding="utf-8")
    png(media / "small.png", (300, 400), (9, 9, 9))
    (media / "small.txt").write_text("  \n", encoding="utf-8")   # blank caption
    png(media / "tagged.png", (512, 512), (7, 7, 7))
    (media / "tagged.caption").write_text("sks", encoding="utf-8")   # another caption extension
    (media / "broken.png").write_bytes(b"\x89PNG not really")
    (media / "broken.txt").write_text("x", encoding="utf-8")
    report = _report(tmp_path, trigger="sks",
                     samples={"every_n_epochs": 1, "prompts": [{"prompt": "sks cat"}, {"prompt": "a dog"}]})
    found = _by_code(report)
    assert found["file_unreadable"]["severity"] == "block" and found["file_unreadable"]["files"] == ["broken.png"]
    assert found["image_caption_missing"]["files"] == ["tagged.png"]
    assert found["caption_wrong_extension"]["files"] == ["tagged.png"]
    assert found["caption_wrong_extension"]["params"] == {"found": ".caption", "ext": ".txt"}
    assert found["caption_empty"]["files"] == ["small.png"]
    assert found["image_upscaled"]["files"] == ["small.png"]
    assert found["duplicate_content"]["params"]["groups"] == [["big.png", "copy.png"]]
    assert found["sample_trigger_missing"]["params"] == {"trigger": "sks", "prompts": [2]}
    assert report["blocking"] == 1 and report["findings"][0]["severity"] == "block"
    # What is left is bucketed: the unreadable and the uncaptioned file are not.
    names = sorted(n for b in report["buckets"]["buckets"] for n in b["files"])
    assert names == ["big.png", "copy.png", "small.png"]


def test_no_upscale_keeps_small_images_in_their_own_bucket(tmp_path):
    media = _folders(tmp_path)
    png(media / "small.png", (300, 410))
    (media / "small.txt").write_text("a", encoding="utf-8")
    png(media / "tiny.png", (12, 200), (5, 5, 5))
    (media / "tiny.txt").write_text("b", encoding="utf-8")
    report = _report(tmp_path, resolution=[512, 512], bucket_no_upscale=True)
    found = _by_code(report)
    assert "image_upscaled" not in found and found["image_own_bucket"]["files"] == ["small.png"]
    assert found["image_too_small"]["severity"] == "block" and found["image_too_small"]["files"] == ["tiny.png"]
    assert [b["key"] for b in report["buckets"]["buckets"]] == [[288, 400]]
    assert report["buckets"]["selector"]["min_size"] == 256 and report["buckets"]["selector"]["max_size"] == 512


def test_edit_pairs_with_another_shape_or_an_unreadable_control(tmp_path):
    media = _folders(tmp_path)
    for name, size in (("a", (512, 512)), ("b", (512, 512)), ("c", (640, 480))):
        png(media / f"{name}.png", size, (ord(name), 0, 0))
        (media / f"{name}.txt").write_text(name, encoding="utf-8")
    png(tmp_path / "control" / "a.png", (256, 256), (0, 1, 0))      # same shape, smaller: fine
    png(tmp_path / "control" / "b.png", (512, 256), (0, 2, 0))      # another shape: cropped
    (tmp_path / "control" / "c.png").write_bytes(b"not an image")
    report = _report(tmp_path, "image_control", "qwen-image-edit-lora", "edit-2511")
    found = _by_code(report)
    assert found["control_size_mismatch"]["files"] == ["b.png"]
    assert found["file_unreadable"]["files"] == ["c.png"]
    assert found["file_unreadable"]["params"] == {"folder": "control"}


def test_video_windows_follow_musubis_extraction():
    d = {"target_frames": [1, 5, 9], "frame_extraction": "head"}
    assert preflight.windows(7, d) == [(0, 1), (0, 5)]
    assert preflight.windows(20, {"target_frames": [8], "frame_extraction": "chunk"}) == [(0, 5), (5, 5), (10, 5),
                                                                                          (15, 5)]
    assert preflight.windows(13, {"target_frames": [9], "frame_extraction": "slide", "frame_stride": 2}) == [
        (0, 9), (2, 9), (4, 9)]
    assert preflight.windows(19, {"target_frames": [9], "frame_extraction": "uniform", "frame_sample": 3}) == [
        (0, 9), (5, 9), (10, 9)]
    assert preflight.windows(9, {"target_frames": [9], "frame_extraction": "uniform", "frame_sample": 3}) == [(0, 9)]
    assert preflight.windows(30, {"frame_extraction": "full", "max_frames": 23}) == [(0, 21)]
    # 30 fps to Wan's 16: 47 frames become 25; head stops at the longest window.
    assert preflight.frames_read(47, 30.0, 16.0, None) == 25
    assert preflight.frames_read(47, None, None, 9) == 9


def test_clips_that_yield_no_window(tmp_path):
    media = _folders(tmp_path)
    video(media / "long.mp4", frames=12, fps=24)
    video(media / "short.mp4", frames=3, fps=24, shade=90)
    for name in ("long", "short"):
        (media / f"{name}.txt").write_text(name, encoding="utf-8")
    report = _report(tmp_path, "video", "wan2.1-lora", "t2v-1.3B", resolution=[96, 64], target_frames=[5, 9])
    found = _by_code(report)
    assert found["video_no_window"]["severity"] == "warn" and found["video_no_window"]["files"] == ["short.mp4"]
    clips = {c["name"]: c for c in report["videos"]}
    assert clips["long.mp4"]["frames"] == 12 and clips["long.mp4"]["window_frames"] == [5, 9]
    assert clips["short.mp4"]["windows"] == 0
    assert [(b["frames"], b["count"]) for b in report["buckets"]["buckets"]] == [(5, 1), (9, 1)]
    (media / "long.mp4").unlink()
    (media / "long.txt").unlink()
    report = _report(tmp_path, "video", "wan2.1-lora", "t2v-1.3B", resolution=[96, 64], target_frames=[5, 9])
    assert {f["code"]: f["severity"] for f in report["findings"]}["video_no_window"] == "block"


def test_preview_counts_batches_and_steps():
    sel = buckets.Selector((512, 512), True, False, 16)
    items = [buckets.Item(f"w{i}.png", (800, 600)) for i in range(5)] + [buckets.Item("t.png", (600, 800))]
    p = buckets.preview(items, sel, batch_size=4, num_repeats=2, grad_accum=3, epochs=5)
    rows = {tuple(b["key"]): b for b in p["buckets"]}
    assert sorted(b["count"] for b in rows.values()) == [2, 10]
    assert [b["batches"] for b in p["buckets"]] == [1, 3] or [b["batches"] for b in p["buckets"]] == [3, 1]
    assert p["num_train_items"] == 12 and p["batches_per_epoch"] == 4
    assert p["steps_per_epoch"] == 2 and p["total_steps"] == 10    # ceil(4 / 3) x 5 epochs
    assert [b["smaller_than_batch"] for b in p["buckets"] if b["count"] == 2] == [True]
    # Two GPUs (one process each) share an epoch's batches: ceil(4 / 2 / 1) steps per epoch.
    assert buckets.preview(items, sel, batch_size=4, num_repeats=2, processes=2, epochs=5)["total_steps"] == 10


def test_api_report_and_a_start_refused_with_the_list(api, svc, models):
    point_at_standin(svc.store)
    media = add_dataset(svc)
    body = api.post("/api/tasks/preflight", json=qwen_task(models)).get_json()
    assert body["blocking"] == 0 and body["buckets"]["num_train_items"] == 3
    assert body["estimate"]["basis"] == "table" and "not measured" in body["estimate"]["source"]
    assert body["estimate"]["total_s"] > body["estimate"]["train_s"] > 0
    # The dataset page asks with only the dataset and a task type.
    assert api.post("/api/tasks/preflight", json={"task_type": "qwen-image-lora",
                                                  "dataset_id": "ds_0000c0de"}).status_code == 200

    (media / "img1.png").write_bytes(b"\x89PNG cut off")
    task = api.post("/api/tasks", json=qwen_task(models)).get_json()["task"]
    resp = api.post(f"/api/tasks/{task['id']}/start")
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert err["code"] == "preflight_blocked"
    assert [(f["code"], f["files"]) for f in err["details"]["findings"]] == [("file_unreadable", ["img1.png"])]
    assert tasks.row(svc.store, task["id"])["status"] == "draft"
    assert api.get(f"/api/tasks/{task['id']}/preflight").get_json()["blocking"] == 1
    png(media / "img1.png", color=(200, 1, 1))
    assert api.post(f"/api/tasks/{task['id']}/start").status_code == 200
    done = svc.supervisor.wait(task["id"], timeout=30)
    assert done["status"] == "done", done["error"]


def test_a_finished_run_records_its_time_and_what_was_trained(trainer, models):
    svc = trainer
    task = tasks.create(svc.store, svc.layout, qwen_task(models))
    svc.supervisor.enqueue(task["id"])
    done = svc.supervisor.wait(task["id"], timeout=30)
    assert done["status"] == "done", done["error"]
    run = done["run"]
    assert run["preflight"]["num_train_items"] == 3 and run["preflight"]["total_steps"] == 6
    timing = run["timing"]
    assert timing["steps"] == 6 and timing["seconds_per_step"] > 0
    assert timing["estimated_s"] == run["preflight"]["estimate"]["total_s"] and "error_pct" in timing
    # The stand-in prints musubi's banner for the items it was given: no difference.
    assert run["accounting"]["actual"]["num_train_items"] == 3 and run["accounting"]["differences"] == []

    # The next estimate learns from this run, on the same key.
    from server.training import estimate
    report = preflight.report(svc.store, svc.layout, qwen_task(models))
    assert report["estimate"]["basis"] == "history" and report["estimate"]["runs"] == 1
    assert report["estimate"]["matched_on"] == list(estimate.MATCH_LEVELS[0])
    assert report["estimate"]["seconds_per_step"] == round(timing["seconds_per_step"], 3)
    # Another resolution: scaled by the pixels per step, matched on less.
    other = preflight.report(svc.store, svc.layout, {**qwen_task(models), "dataset": {"resolution": [512, 512]}})
    assert other["estimate"]["matched_on"] == list(estimate.MATCH_LEVELS[1])
    assert other["estimate"]["seconds_per_step"] < report["estimate"]["seconds_per_step"]


def test_accounting_reads_musubis_real_output():
    zimage = accounting.parse((REAL / "zimage_3_train.log").read_text(encoding="utf-8"),
                              (REAL / "zimage_1_cache_latents.log").read_text(encoding="utf-8"))
    assert zimage == {"buckets": [{"key": [64, 64], "count": 4}], "num_train_items": 4, "batches_per_epoch": 4,
                      "total_steps": 4, "files_found": 4}
    wan = accounting.parse((REAL / "wan_3_train.log").read_text(encoding="utf-8"))
    assert wan["buckets"] == [{"key": [64, 64, 5], "count": 2}] and wan["num_train_items"] == 2
    expected = {"num_train_items": 4, "batches_per_epoch": 4, "total_steps": 4,
                "buckets": [{"key": [64, 64], "count": 4}]}
    assert accounting.compare(expected, zimage) == []
    fewer = {**expected, "num_train_items": 5, "buckets": [{"key": [64, 64], "count": 5}]}
    assert [d["code"] for d in accounting.compare(fewer, zimage)] == ["accounting_items", "accounting_buckets"]
