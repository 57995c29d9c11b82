"""Screenshots of every page, as a user sees them, for looking at before a UI change is called done.

    .venv/bin/python -m bench.screens [OUT_DIR] [--sizes 1100x700,1920x1080] [--locales zh-CN] [--themes light,dark]

Starts the real launcher on a fresh data folder, seeds it through the HTTP API (datasets with images,
captions, a missing control image, items in the trash, a queued task, a stand-in trainer) and saves one
PNG per page x size x locale x theme into OUT_DIR (default: <tmp>/lw-screens).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PIL import Image

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.live import LiveApp, wait_for

STANDIN = Path(__file__).resolve().parents[1] / "tests" / "standin" / "fake_musubi"
COLORS = ["red", "green", "blue", "orange", "purple", "teal", "gray", "navy"]


def import_folder(live, ds_id: str, folder: Path, slot: str = "media") -> None:
    job = live.call("POST", f"/api/datasets/{ds_id}/import", {"source": "folder", "path": str(folder), "slot": slot})
    wait_for(lambda: live.call("GET", f"/api/jobs/{job['job']['id']}")["job"]["status"] in ("done", "failed"))


def seed(live, work: Path) -> dict:
    live.call("PATCH", "/api/settings", {"first_run_done": True, "musubi_dir": str(STANDIN),
                                          "musubi_python": sys.executable})
    cats = live.call("POST", "/api/datasets", {"name": "猫咪照片 · 室内与室外的长名字数据集", "type": "image",
                                               "trigger_word": "sks cat"})["dataset"]
    pics = work / "pics"
    pics.mkdir(parents=True)
    for i in range(12):
        Image.new("RGB", (96 + 8 * i, 72), COLORS[i % len(COLORS)]).save(pics / f"cat{i:02d}.png")
        if i % 3:
            (pics / f"cat{i:02d}.txt").write_text(f"sks cat, photo {i}, indoors, sitting", encoding="utf-8")
    import_folder(live, cats["id"], pics)
    ids = live.call("GET", f"/api/datasets/{cats['id']}/items")["items"]
    live.call("POST", f"/api/datasets/{cats['id']}/items/delete", {"target": {"names": [it["name"] for it in ids[:2]]}})

    edit = live.call("POST", "/api/datasets", {"name": "Edit pairs", "type": "image_control"})["dataset"]
    pairs = work / "pairs"
    pairs.mkdir()
    for i in range(3):
        Image.new("RGB", (80, 80), COLORS[i]).save(pairs / f"p{i}.png")
    import_folder(live, edit["id"], pairs)
    live.call("POST", "/api/datasets", {"name": "空数据集", "type": "video"})

    models = {}
    (work / "models").mkdir()
    for key in ("dit", "vae", "text_encoder"):
        p = work / "models" / f"{key}.safetensors"
        p.write_bytes(b"weights")
        models[key] = str(p)
    task = live.call("POST", "/api/tasks", {
        "name": "猫咪 LoRA 第一版", "task_type": "qwen-image-lora", "dataset_id": cats["id"], "models": models,
        "vram_preset": "low", "training": {"max_train_epochs": 4}, "dataset": {"num_repeats": 2}})["task"]
    return {"dataset": cats["id"], "task": task["id"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default=str(Path(tempfile.gettempdir()) / "lw-screens"))
    ap.add_argument("--sizes", default="1100x700,1920x1080")
    ap.add_argument("--locales", default="zh-CN")
    ap.add_argument("--themes", default="light,dark")
    ap.add_argument("--pages", default="")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        live = LiveApp(Path(tmp) / "data", env={"LORA_WORKBENCH_GPU_PROVIDER": "none"}).wait_ready()
        try:
            ids = seed(live, Path(tmp) / "work")
            pages = {"datasets": "#/datasets", "dataset": f"#/datasets/{ids['dataset']}",
                     "tags": f"#/datasets/{ids['dataset']}?tab=tags",
                     "item-trash": f"#/datasets/{ids['dataset']}?trash=1",
                     "trash": "#/datasets?trash=1", "tasks": "#/tasks", "new-task": "#/tasks/new",
                     "task": f"#/tasks/{ids['task']}", "settings": "#/settings"}
            if args.pages:
                pages = {k: v for k, v in pages.items() if k in args.pages.split(",")}
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                for size in args.sizes.split(","):
                    w, h = (int(x) for x in size.split("x"))
                    for locale in args.locales.split(","):
                        for theme in args.themes.split(","):
                            live.call("PATCH", "/api/settings", {"language": locale, "theme": theme})
                            ctx = browser.new_context(viewport={"width": w, "height": h}, locale=locale)
                            pg = ctx.new_page()
                            pg.goto(live.url)
                            for name, hash_ in pages.items():
                                pg.goto(live.url.split("?")[0].rstrip("/") + "/" + hash_)
                                pg.wait_for_load_state("networkidle")
                                pg.locator("main.content").wait_for()
                                pg.wait_for_timeout(600)  # let thumbnails and charts paint; a picture, not a test
                                path = out / f"{name}-{size}-{locale}-{theme}.png"
                                pg.screenshot(path=str(path))
                                print(path)
                            ctx.close()
                browser.close()
        finally:
            live.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
