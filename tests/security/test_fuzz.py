"""Seeded fuzzing of every API route: whatever arrives, the answer is JSON and never a 5xx.

The routes come from the app's own url_map (a new route is fuzzed without editing this file); the
field names come from the server's source (every `.get("x")` / `["x"]`), so bodies reach real
validation code instead of stopping at "unknown field". Values are the shapes that broke the
server before: wrong types, lists of lists, huge and non-finite numbers, over-long and traversing
names, deep nesting, lone surrogates, malformed JSON. Seeded and bounded: the same ~2,100 requests
every run, about 15 s on a busy 2-core machine.
"""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

import pytest

from tests.conftest import TOKEN

from .conftest import add_dataset, png_bytes

ROOT = Path(__file__).resolve().parents[2]
SEED = 12
PER_ROUTE = 16          # requests per (route, method) without a seed body; ~90 routes
PER_SEEDED = 60         # with one (mutations of a valid body reach deeper checks)
TIME_BUDGET_S = 45      # a hard stop, far above what a run takes, so the test cannot hang a suite
DS = "ds_f0220000"

# Routes that act on the desktop or the whole app rather than on data: quitting would stop the
# server under the test, the others open native windows (their guards are tested in test_auth.py and
# test_bad_input.py). Everything else in the url_map is fuzzed.
SKIP = {"app_control.quit_app", "app_control.focus", "models.pick_file"}
# Reads no input and probes the machine's Python interpreters (about a second a call): a few suffice.
FEW = {"runtime.run_detect": 2}


def _field_names() -> list[str]:
    names = set()
    for path in (ROOT / "server").rglob("*.py"):
        src = path.read_text(encoding="utf-8")
        names.update(re.findall(r"""\.get\(["']([a-z][a-z0-9_]{1,40})["']""", src))
        names.update(re.findall(r"""\[["']([a-z][a-z0-9_]{1,40})["']\]""", src))
    return sorted(names)


FIELDS = _field_names()
LONG = "n" * 300                     # past NAME_MAX (255) of every file system
SCALARS = [None, True, False, 0, -1, 1, 7, 2 ** 31, 2 ** 63, 10 ** 30, -10 ** 30, 0.5, -0.0, 1e308, -1e308,
           "", " ", "a", "x" * 5000, LONG, LONG + ".png", "a/" + LONG, "../../etc/passwd", "..", "/",
           "C:\\Windows\\" + LONG, "con", "a\\b", "nul.txt", "中文 名字", "\u0000", "ds_nope", "1", "-1",
           "1e400", "Infinity", "NaN", "true", "*", "%s", "{trigger}", "\u202e", "a" * 121]
# Raw bodies that are not an ordinary object: each must be a clean 4xx on a route that reads a body.
RAW = ['{"name": NaN}', '{"value": Infinity}', '{"n": -Infinity}', '{"n": 1e400}', '{"name": "x\\ud800"}',
       "[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000, "{", "null", "[]", '"text"', "1",
       '{"\\udc00": 1}', "\xff\xfe", '{"a": 1' + "0" * 5000 + "}"]


def _value(rng: random.Random, ids: list, depth: int = 0):
    roll = rng.random()
    if depth < 3 and roll < 0.2:
        return [_value(rng, ids, depth + 1) for _ in range(rng.randint(0, 3))]
    if depth < 3 and roll < 0.35:
        return _obj(rng, ids, depth + 1)
    if roll < 0.45:
        return rng.choice(ids)
    return rng.choice(SCALARS)


def _obj(rng: random.Random, ids: list, depth: int = 0) -> dict:
    return {rng.choice(FIELDS): _value(rng, ids, depth) for _ in range(rng.randint(1, 5))}


def _seeds(real: dict, tmp: Path) -> dict:
    """A valid body per route that takes one: mutating one field of it reaches the validation of that
    field (a random body stops at the first missing field). Nothing here starts real work beyond a
    local import or a tagging job that fails at once."""
    models = {k: str(tmp / f"{k}.safetensors") for k in ("dit", "vae", "text_encoder")}
    task = {"name": "Fuzz", "task_type": "qwen-image-lora", "dataset_id": real["dataset_id"],
            "models": models, "vram_preset": "low", "gpus": [0], "training": {"max_train_epochs": 2},
            "samples": {"every_n_epochs": 1, "prompts": [{"prompt": "a cat", "width": 512}]}}
    target = {"ids": [int(real["item_id"])]}
    return {
        "datasets.create_dataset": [{"name": "Fuzz set", "type": "image"}],
        "datasets.update_dataset": [{"name": "Renamed", "trigger_word": "ohwx"}],
        "datasets.batch_op": [{"op": "sort", "params": {"keep_first": 1, "reverse": True}, "target": target},
                              {"op": "add_tags", "params": {"tags": ["a", "b"], "position": "end"}, "target": target},
                              {"op": "replace_text", "params": {"find": "a", "replace": "b", "regex": True},
                               "target": {"all": True}}],
        "datasets.put_caption": [{"caption": "a cat", "expected": "a caption"}],
        "datasets.put_tags": [{"tags": ["a", "b"]}],
        "datasets.delete_items": [{"target": target}],
        "datasets.import_local": [{"source": "folder", "path": str(tmp / "import"), "slot": "media"}],
        "datasets.restore_items": [{"ids": [1]}],
        "tagging.autotag": [{"backend": "wd14", "mode": "only_empty", "trigger": "ohwx", "target": target,
                             "blacklist": ["watermark"]}],
        "tagging.test_backend": [{"backend": "openai_api", "dataset_id": real["dataset_id"],
                                  "item_id": int(real["item_id"]),
                                  "options": {"base_url": "http://127.0.0.1:9/v1", "api_key": "sk-fuzz"}}],
        "tasks.create_task": [task],
        "tasks.preview": [task],
        "tasks.update_task": [{"name": "Renamed", "training": {"learning_rate": 1e-4}}],
        "tasks.clone_task": [{"name": "Clone"}],
        "tasks.save_user_preset": [{"config": {"training": {"max_train_epochs": 3}}}],
        "tasks.check_paths": [{"paths": [models["dit"]]}],
        "tasks.reorder_queue": [{"order": [real["task_id"]]}],
        "models.check": [{"path": models["dit"], "role": "dit", "task_type": "qwen-image-lora"}],
        "settings.patch_settings": [{"tagging_mode": "append", "tagging_api_parallel": 2,
                                     "window": {"width": 1000}}],
        "app_control.open_folder": [{"folder": "nope"}],
    }


def _mutate(rng: random.Random, body, ids: list):
    """`body` with one value somewhere inside replaced, or one key added or removed."""
    body = json.loads(json.dumps(body))
    node = body
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = rng.choice(keys)
        child = node[key]
        if isinstance(child, (dict, list)) and child and rng.random() < 0.6:
            node = child
            continue
        roll = rng.random()
        if roll < 0.75:
            node[key] = _value(rng, ids)
        elif roll < 0.9 and isinstance(node, dict):
            node[rng.choice(FIELDS)] = _value(rng, ids)
        elif isinstance(node, dict):
            del node[key]
        break
    return body


def _path_value(rng: random.Random, name: str, real: dict) -> str:
    choices = ["x", LONG, "a" * 2000, "..", "%2e%2e", "%00", "%ED%A0%80", "中文", "-1", "99999999999999999999",
               "a%2Fb", "con", LONG + "/" + LONG]
    if name in real:
        choices += [real[name]] * 6
    return rng.choice(choices)


def _url(rule, rng, real) -> str:
    url = rule.rule
    for arg in rule.arguments:
        url = re.sub(r"<(?:[a-z]+:)?%s>" % arg, lambda _m: _path_value(rng, arg, real), url)
    if rng.random() < 0.5:
        values = ["1", "-1", "1e400", "Infinity", "NaN", LONG, "99999999999999999999", "%ED%A0%80", "x", "true"]
        url += "?" + "&".join(f"{rng.choice(FIELDS)}={rng.choice(values)}" for _ in range(rng.randint(1, 3)))
    return url


@pytest.fixture
def targets(api, svc, tmp_path):
    """Real objects for the path parameters: a dataset with an item, a task, a finished job."""
    add_dataset(svc, DS)
    item_id = svc.store.db.execute("SELECT id FROM dataset_items WHERE dataset_id = ?", [DS]).fetchone()[0]
    for key in ("dit", "vae", "text_encoder"):
        (tmp_path / f"{key}.safetensors").write_bytes(b"weights")
    (tmp_path / "import").mkdir()
    (tmp_path / "import" / "b.png").write_bytes(png_bytes())
    models = {k: str(tmp_path / f"{k}.safetensors") for k in ("dit", "vae", "text_encoder")}
    task = api.post("/api/tasks", json={"name": "Fuzz", "task_type": "qwen-image-lora", "dataset_id": DS,
                                        "models": models, "vram_preset": "low", "gpus": [0]}).get_json()["task"]
    job = svc.jobs.submit("demo", "Demo", lambda ctx: None)
    svc.jobs.wait(job["id"])
    return {"dataset_id": DS, "item_id": str(item_id), "task_id": task["id"], "job_id": job["id"],
            "slot": "media", "name": "a.png"}


def test_no_route_answers_5xx(app, api, targets, tmp_path):
    rng = random.Random(SEED)
    rules = sorted((r for r in app.url_map.iter_rules()
                    if r.rule.startswith(("/api/", "/media/")) and r.endpoint not in SKIP), key=lambda r: r.rule)
    seeds = _seeds(targets, tmp_path)
    assert len(rules) > 60, "the url_map lost its API routes"
    ids = list(targets.values())
    failures, sent = [], 0
    deadline = time.monotonic() + TIME_BUDGET_S
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for _ in range(FEW.get(rule.endpoint, PER_SEEDED if rule.endpoint in seeds else PER_ROUTE)):
                assert time.monotonic() < deadline, f"fuzzing took over {TIME_BUDGET_S}s ({sent} requests)"
                url = _url(rule, rng, targets)
                if method == "GET":
                    body = None
                elif rng.random() < 0.2:
                    body = rng.choice(RAW)
                elif rule.endpoint in seeds and rng.random() < 0.8:
                    body = json.dumps(_mutate(rng, rng.choice(seeds[rule.endpoint]), ids))
                else:
                    body = json.dumps(_obj(rng, ids))
                try:
                    resp = api.client.open(url, method=method, data=body, headers={
                        "X-Workbench-Token": TOKEN, "Content-Type": "application/json"})
                except Exception as exc:  # noqa: BLE001 - one that escapes Flask is a failure to report too
                    failures.append(f"{method} {url[:120]} {str(body)[:160]!r} -> {type(exc).__name__}: {exc}")
                    continue
                finally:
                    sent += 1
                if resp.status_code >= 500 or (resp.status_code >= 400 and not resp.is_json):
                    failures.append(f"{method} {url[:120]} {str(body)[:160]!r} -> {resp.status_code} "
                                    f"{resp.get_data(as_text=True)[:300]}")
    assert not failures, f"{len(failures)} of {sent} requests failed:\n" + "\n".join(failures[:40])
