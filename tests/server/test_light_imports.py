"""What a process has to import before it can work (issue 19), each checked in a fresh interpreter:
the app starts without numpy (sqlite-utils' optional import of it is skipped; the WD14 tagger loads it
when it makes its first array) or the websocket stack (loaded on the first connection), the launcher
reaches its window without the web stack, and a thumbnail pool worker loads Pillow and the thumbnail
maker, not the app (no Flask, no sqlite-utils)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _fresh(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_app_starts_without_numpy_and_the_tagger_loads_it_when_needed(tmp_path):
    seen = _fresh(f"""
import json, sys
from server import create_app
app = create_app(data_dir={str(tmp_path / "data")!r}, token="t", testing=True)
started = sorted(m for m in ("numpy", "onnxruntime", "av", "simple_websocket") if m in sys.modules)
r = app.test_client().get("/api/datasets", headers={{"X-Workbench-Token": "t"}})
from PIL import Image
from server.tagging.wd14 import preprocess
arr = preprocess(Image.new("RGBA", (30, 20), (10, 20, 30, 255)), 16)
print(json.dumps({{"started": started, "status": r.status_code, "shape": list(arr.shape), "dtype": str(arr.dtype),
                  "bgr": arr[8, 8].tolist()}}))
""")
    assert seen["started"] == [] and seen["status"] == 200
    assert seen["shape"] == [16, 16, 3] and seen["dtype"] == "float32" and seen["bgr"] == [30.0, 20.0, 10.0]


def test_sqlite_utils_still_works_when_numpy_came_first(tmp_path):
    """numpy already loaded (a tagging test, a bench): nothing is hidden, the store works as before."""
    seen = _fresh(f"""
import json, sys
import numpy
from server.store import Store
db = Store({str(tmp_path / "w.db")!r}).db
import sqlite_utils.db
print(json.dumps({{"np": sqlite_utils.db.np is numpy, "numpy": sys.modules["numpy"] is numpy,
                  "tables": "settings" in db.table_names()}}))
""")
    assert seen == {"np": True, "numpy": True, "tables": True}


def test_a_thumbnail_worker_imports_no_part_of_the_app():
    seen = _fresh("""
import json, sys
from server.datasets import thumbmaker
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & {"flask", "werkzeug", "sqlite_utils", "numpy", "av"})))
""")
    assert seen == []


def test_the_launcher_reaches_its_window_without_the_web_stack():
    """The window's toolkit loads first (launcher.py): Flask, werkzeug and the websocket stack load with the
    app on its own thread, and urllib.request only when a second launch calls the first."""
    seen = _fresh("""
import json, sys
import launcher
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules}
                        & {"flask", "werkzeug", "sqlite_utils", "simple_websocket", "wsproto", "numpy"}
                        | ({"urllib.request"} & set(sys.modules)))))
""")
    assert seen == []
