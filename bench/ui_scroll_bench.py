"""UI scroll benchmark: a 10,000-image dataset in the real app, scrolled top to bottom in headless Chromium.

Builds the dataset through the server API (create, then the files are written into the dataset's media
folder as another tool would and picked up by POST /rescan), opens the detail page through the secret
URL, and prints:
  - time to first cards (navigation start -> first card with its thumbnail in the DOM)
  - frames rendered, long frames (> 50 ms) and frame-time percentiles while scrolling to the bottom
    (requestAnimationFrame timing inside the page)
  - cards in the DOM (at rest and the most seen during the scroll: must stay small)
  - item pages fetched from the API during the scroll

Usage: .venv/bin/python bench/ui_scroll_bench.py [--items 10000] [--step 600] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from tests.live import LiveApp  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TAGS = ["1girl", "solo", "smile", "long hair", "outdoors", "sky", "red dress", "looking at viewer", "cat", "tree"]


def call(live, method, path, body=None):
    req = urllib.request.Request(live.base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"X-Workbench-Token": live.token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read() or b"null")


def build(live, n: int) -> str:
    ds = call(live, "POST", "/api/datasets", {"name": f"bench {n}"})["dataset"]
    media = Path(live.data_dir) / "datasets" / ds["id"] / "media"
    media.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    # a handful of distinct small PNGs, copied: writing 10,000 files is what we measure, not Pillow
    seeds = []
    for k in range(16):
        p = Path(tempfile.gettempdir()) / f"lw_bench_seed_{k}.png"
        Image.new("RGB", (64 + 4 * k, 48), ((k * 53) % 256, (k * 97) % 256, (k * 31) % 256)).save(p)
        seeds.append(p.read_bytes())
    for i in range(n):
        (media / f"img_{i:05d}.png").write_bytes(seeds[i % len(seeds)])
        (media / f"img_{i:05d}.txt").write_text(", ".join(TAGS[j] for j in range(10) if (i >> j) & 1 or j == 0),
                                                 encoding="utf-8")
    t1 = time.perf_counter()
    res = call(live, "POST", f"/api/datasets/{ds['id']}/rescan", {})
    t2 = time.perf_counter()
    assert res["result"]["total"] == n, res
    print(f"dataset: {n} items written in {t1 - t0:.1f}s, indexed by rescan in {t2 - t1:.1f}s")
    return ds["id"]


SCROLL_JS = """async (step) => {
  const sc = document.querySelector('[data-testid=grid-scroller]');
  const cards = () => document.querySelectorAll('[data-testid=item-card], [data-testid=item-skeleton]').length;
  const frames = [];
  let maxCards = cards();
  let last = performance.now();
  const t0 = last;
  await new Promise((resolve) => {
    function tick(now) {
      frames.push(now - last);
      last = now;
      maxCards = Math.max(maxCards, cards());
      if (sc.scrollTop + sc.clientHeight >= sc.scrollHeight - 2) return resolve();
      sc.scrollTop += step;
      requestAnimationFrame(tick);
    }
    requestAnimationFrame(tick);
  });
  return { frames, maxCards, ms: performance.now() - t0, scrollHeight: sc.scrollHeight };
}"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--step", type=int, default=600, help="pixels scrolled per frame")
    ap.add_argument("--keep", help="data folder to keep (default: a temporary one)")
    args = ap.parse_args()

    data = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="lw_bench_"))
    live = LiveApp(data, env={"LORA_WORKBENCH_GPU_PROVIDER": "none"}).wait_ready()
    try:
        ds_id = build(live, args.items)
        from playwright.sync_api import sync_playwright

        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
            page = ctx.new_page()
            page.goto(live.url)  # sets the secret cookie
            page.wait_for_selector("nav")
            item_requests = []
            page.on("request", lambda r: "/items?" in r.url and item_requests.append(r.url))

            t0 = time.perf_counter()
            page.goto(f"{live.base}/#/datasets/{ds_id}")
            page.wait_for_selector("[data-testid=item-card] img")
            first = time.perf_counter() - t0
            page.wait_for_timeout(500)
            rest_cards = page.locator("[data-testid=item-card]").count()
            cols = page.get_attribute("[data-testid=item-grid]", "data-cols")
            pages_before = len(item_requests)

            out = page.evaluate(SCROLL_JS, args.step)
            page.wait_for_timeout(800)
            end_cards = page.locator("[data-testid=item-card]").count()
            last_name = page.locator("[data-testid=item-card]").last.get_attribute("data-name")
            frames = sorted(out["frames"][1:])
            long_frames = sum(1 for f in frames if f > 50)

            def pct(p):
                return frames[min(len(frames) - 1, int(p * len(frames)))] if frames else 0

            print(f"time to first cards: {first * 1000:.0f} ms  ({cols} columns, {rest_cards} cards in the DOM at rest)")
            print(f"scroll: {out['scrollHeight']} px in {out['ms'] / 1000:.1f} s, {len(frames)} frames rendered, "
                  f"{long_frames} long frames (>50 ms), frame time p50 {pct(.5):.1f} ms / p95 {pct(.95):.1f} ms / "
                  f"max {frames[-1] if frames else 0:.1f} ms")
            print(f"cards in the DOM: at most {out['maxCards']} during the scroll, {end_cards} at the bottom "
                  f"(last card: {last_name})")
            print(f"item pages fetched: {pages_before} before scrolling, {len(item_requests) - pages_before} during")
            browser.close()
    finally:
        live.stop()
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
