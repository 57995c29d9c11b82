"""The queue with places per GPU and its `queue` events, reordering over HTTP, convert targets
(`convert_lora.py --target other|default`), and the stand-in's real PNG samples."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image

from server.training import cli_spec, convert, outputs, planning, tasks

from .conftest import add_dataset, point_at_standin, qwen_task
from .test_runner import drain, wait_for

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "musubi-cli-spec.json"


def queue_events(sub) -> list[dict]:
    return [e["data"] for e in drain(sub) if e["type"] == "queue"]


def test_queue_places_per_gpu_events_and_reorder_over_http(api, svc, models, monkeypatch):
    point_at_standin(svc.store)
    add_dataset(svc)
    monkeypatch.setenv("FAKE_MUSUBI_STEP_S", "0.1")
    a = tasks.create(svc.store, svc.layout, qwen_task(models, name="A", epochs=20, samples=False))
    b = tasks.create(svc.store, svc.layout, qwen_task(models, name="B", epochs=1, samples=False))
    c = tasks.create(svc.store, svc.layout, qwen_task(models, name="C", epochs=1, samples=False, gpus=[0, 1]))
    d = tasks.create(svc.store, svc.layout, qwen_task(models, name="D", epochs=1, samples=False, gpus=[1]))
    sub = svc.bus.subscription()
    sub.subscribe("tasks")
    # A runs on GPU 0; D is held back by C, which waits for GPU 0 and also wants GPU 1.
    svc.supervisor.enqueue(a["id"])
    wait_for(lambda: tasks.row(svc.store, a["id"])["status"] == "running", what="A running")
    for t in (b, c, d):
        assert api.post(f"/api/tasks/{t['id']}/start").status_code == 200
    listed = api.get("/api/tasks").get_json()["queue"]
    assert [(e["id"], e["positions"]) for e in listed] == [
        (b["id"], [{"gpu": 0, "position": 1}]),
        (c["id"], [{"gpu": 0, "position": 2}, {"gpu": 1, "position": 1}]),
        (d["id"], [{"gpu": 1, "position": 2}])]
    events = queue_events(sub)
    assert events and events[-1]["order"] == [b["id"], c["id"], d["id"]]
    assert events[-1]["queue"] == listed

    # Move C before B: the answer and the event carry the new places.
    resp = api.put("/api/tasks/queue", json={"order": [c["id"], b["id"]]})
    assert resp.status_code == 200
    assert [(e["id"], [p["position"] for p in e["positions"]]) for e in resp.get_json()["queue"]] == [
        (c["id"], [1, 1]), (b["id"], [2]), (d["id"], [2])]
    assert queue_events(sub)[-1]["order"] == [c["id"], b["id"], d["id"]]
    bad = api.put("/api/tasks/queue", json={"order": [a["id"]]})
    assert bad.status_code == 422 and bad.get_json()["error"]["details"]["field"] == "order"
    assert api.put("/api/tasks/queue", json={"order": "x"}).status_code == 422

    # A stopped queued task leaves the queue (and an event says so).
    svc.supervisor.stop(d["id"])
    assert queue_events(sub)[-1]["order"] == [c["id"], b["id"]]
    # When A stops, C (moved up) starts next and the queue event drops it.
    svc.supervisor.stop(a["id"])
    wait_for(lambda: tasks.row(svc.store, c["id"])["status"] in ("running", "done"), what="C started")
    assert tasks.row(svc.store, b["id"])["status"] == "queued"
    wait_for(lambda: any(e["order"] == [b["id"]] for e in queue_events(sub)), what="queue event without C")
    for t in (b, c):
        assert svc.supervisor.wait(t["id"], timeout=30)["status"] == "done"
    assert tasks.row(svc.store, c["id"])["finished_at"] <= tasks.row(svc.store, b["id"])["started_at"] + 0.05


def test_convert_targets_follow_the_cli_spec(api, svc, models):
    spec = json.loads(SPEC.read_text(encoding="utf-8"))["scripts"]["src/musubi_tuner/convert_lora.py"]
    target = next(o for o in spec if o["dest"] == "target")
    assert set(convert.TARGETS) == set(target["choices"]) and target["required"]
    assert cli_spec.check("convert_lora", ["--input", "a", "--output", "b", "--target", "nope"])

    point_at_standin(svc.store)
    add_dataset(svc)
    task = tasks.create(svc.store, svc.layout, qwen_task(models, epochs=1, samples=False))
    svc.supervisor.enqueue(task["id"])
    assert svc.supervisor.wait(task["id"], timeout=30)["status"] == "done"
    made = {}
    for target_value in ("default", "other"):
        resp = api.post(f"/api/tasks/{task['id']}/convert", json={"file": "Cat_LoRA.safetensors", "target": target_value})
        assert resp.status_code == 202
        job = resp.get_json()["job"]
        assert job["params"]["target"] == target_value
        finished = svc.jobs.wait(job["id"], timeout=20)
        assert finished["status"] == "done", finished["error"]
        made[target_value] = finished["result"]["file"]
    assert made == {"default": "converted/Cat_LoRA-musubi.safetensors",
                    "other": "converted/Cat_LoRA-comfyui.safetensors"}
    log = (tasks.paths(svc.layout, task["id"]).logs / "convert-Cat_LoRA.log").read_text(encoding="utf-8")
    assert "(target other)" in log
    listed = api.get(f"/api/tasks/{task['id']}/outputs").get_json()["converted"]
    assert sorted((c["file"], c["target"], c["convert_target"]) for c in listed) == [
        ("converted/Cat_LoRA-comfyui.safetensors", "comfyui", "other"),
        ("converted/Cat_LoRA-musubi.safetensors", "musubi", "default")]
    for bad in ("diffusers", 3):
        resp = api.post(f"/api/tasks/{task['id']}/convert", json={"file": "Cat_LoRA.safetensors", "target": bad})
        assert resp.status_code == 422 and resp.get_json()["error"]["details"]["field"] == "target"


def test_standin_samples_are_real_pngs(api, svc, models):
    point_at_standin(svc.store)
    add_dataset(svc)
    raw = qwen_task(models, epochs=2)
    raw["samples"]["prompts"][1].update({"width": 512, "height": 768})
    task = tasks.create(svc.store, svc.layout, raw)
    svc.supervisor.enqueue(task["id"])
    done = svc.supervisor.wait(task["id"], timeout=30)
    assert done["status"] == "done", done["error"]
    folder = tasks.paths(svc.layout, task["id"]).output
    found = outputs.samples(folder, planning.segments_of(done))
    assert len(found) == 4 and all(s["kind"] == "image" for s in found)
    pictures = {}
    for s in found:
        body = api.get(f"/api/tasks/{task['id']}/files/{s['file']}")
        assert body.status_code == 200 and body.mimetype == "image/png"
        image = Image.open(io.BytesIO(body.data))
        image.load()
        assert image.format == "PNG" and image.mode == "RGB"
        pictures[(s["epoch"], s["prompt_index"])] = image
    assert pictures[(1, 0)].size == (192, 192)  # 1024 x 1024
    assert pictures[(1, 1)].size == (128, 192)  # 512 x 768 keeps its aspect ratio
    # Prompts differ in colour, steps in the picture.
    assert pictures[(1, 0)].getpixel((2, 2)) != pictures[(1, 1)].getpixel((2, 2))
    assert pictures[(1, 0)].tobytes() != pictures[(2, 0)].tobytes()


def test_real_sample_names_are_listed_and_served_with_ranges(api, svc, models):
    """The names the real musubi wrote (files.txt): images with the `_000` index, videos without.
    Both are listed and served; videos answer range requests (a <video> element seeks with them)."""
    point_at_standin(svc.store)
    add_dataset(svc)
    task = tasks.create(svc.store, svc.layout, qwen_task(models, name="tiny", samples=False))
    folder = tasks.paths(svc.layout, task["id"]).output / "sample"
    folder.mkdir(parents=True)
    real_files = (Path(__file__).resolve().parents[1] / "fixtures" / "musubi-real-output" / "files.txt")
    names = [line.rsplit("/", 1)[1] for line in real_files.read_text(encoding="utf-8").split() if "/sample/" in line]
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, format="PNG")
    for name in names:
        (folder / name).write_bytes(png.getvalue() if name.endswith(".png") else b"\0\0\0\x18ftypmp42" + bytes(1000))
    listed = api.get(f"/api/tasks/{task['id']}/outputs").get_json()["samples"]
    assert sorted(s["file"] for s in listed) == sorted(f"sample/{n}" for n in names)
    assert {s["kind"] for s in listed} == {"image", "video"} and {s["seed"] for s in listed} == {42}
    for s in listed:
        resp = api.get(f"/api/tasks/{task['id']}/files/{s['file']}")
        assert resp.status_code == 200 and resp.mimetype == ("image/png" if s["kind"] == "image" else "video/mp4")
    video = next(s for s in listed if s["kind"] == "video")
    part = api.get(f"/api/tasks/{task['id']}/files/{video['file']}", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.data) == 100
    assert part.headers["Content-Range"].endswith("/1012")


def test_a_type_with_its_own_converter_uses_it_for_lora_and_refuses_lycoris(api, svc, tmp_path):
    from server.training import task_types
    from server.training.musubi_env import MusubiEnv

    from .helpers import raw_config

    hv15 = task_types.get("hunyuan-video-1.5-lora")
    env = MusubiEnv(tmp_path / "musubi", tmp_path / "python")
    argv = convert.convert_argv(env, Path("/o/a.safetensors"), Path("/o/c.safetensors"), "default", hv15.comfy_converter)
    assert argv[1] == str(env.script("networks/convert_hunyuan_video_1_5_lora_to_comfy")) and argv[-1] == "--reverse"
    assert convert.convert_argv(env, Path("/o/a.safetensors"), Path("/o/c.safetensors"), "other")[1] == str(
        env.script("convert_lora"))
    task = tasks.create(svc.store, svc.layout, raw_config(hv15, "t2v", training={"network_type": "loha"}))
    (tasks.paths(svc.layout, task["id"]).output / "x.safetensors").write_bytes(b"w")
    resp = api.post(f"/api/tasks/{task['id']}/convert", json={"file": "x.safetensors", "target": "other"})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "convert_lycoris_unsupported"
