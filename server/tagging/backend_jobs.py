"""The settings page's two long actions, as jobs: "test" a backend, and download a WD14 model.

A test loads the backend once (model, connection or musubi set-up) and captions one sample: a
dataset item when the UI names one, else a small generated picture. Its outcome is the job's
result either way, `{"ok": true, "caption", ...}` or `{"ok": false, "error": {code, message}}`,
so the UI shows a failed test as a message rather than as a crashed job.
"""

from __future__ import annotations

import re
import threading
import time

from ..datasets import items, storage
from ..errors import ApiError, ValidationError
from . import hub
from ..jobs import JobCancelled
from .base import Item, TaggingError
from .job import progress_pct, stop_on_cancel
from .media import sample_image
from .registry import create

TEST_KIND = "tagging_test"
DOWNLOAD_KIND = "tagger_download"


def sample_item(svc, body: dict) -> Item:
    """The dataset item named in the request, or the generated sample picture."""
    if body.get("dataset_id") is not None and body.get("item_id") is not None:
        dataset_id, item_id = body["dataset_id"], body["item_id"]
        if not isinstance(dataset_id, str):
            raise ValidationError("dataset_id must be a dataset id.", field="dataset_id")
        # An item id is a row id: a float, a bool or a number past SQLite's range is a request error.
        if isinstance(item_id, bool) or not isinstance(item_id, (int, str)) \
                or not re.fullmatch(r"[0-9]{1,18}", str(item_id)):
            raise ValidationError("item_id must be an item id.", field="item_id")
        storage.row(svc, dataset_id)
        row = items.get_row(svc, dataset_id, body["item_id"])
        items.ensure_on_disk(svc, dataset_id, row)
        path = storage.dataset_dirs(svc.layout, dataset_id).media / row["name"]
        return Item(id=row["name"], path=path, kind=row["kind"] or "image")
    path = svc.layout.cache / "tagging" / "sample.png"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        sample_image().save(path)
    return Item.from_path(path)


def start_test(svc, body: dict) -> dict:
    name = body.get("backend") or svc.store.get_setting("tagging_backend") or "wd14"
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise ValidationError("'options' must be an object.", field="options")
    backend = create(name, store=svc.store, layout=svc.layout, options=options)
    sample = sample_item(svc, body)

    def run(ctx):
        started = time.monotonic()
        try:
            with stop_on_cancel(ctx, backend.stop):
                ctx.progress(0, 1, force=True, message_code="tag_preparing", params={"backend": backend.label})
                backend.prepare(lambda d, t, m: ctx.progress(message_code="tag_downloading",
                                                             params={"file": m, "pct": progress_pct(d, t)}))
                ctx.progress(force=True, message_code="tag_testing", params={"backend": backend.label})
                outcome = {"ok": True, **backend.test(sample)}
        except ApiError as exc:
            outcome = {"ok": False, "error": {"code": exc.code, "message": exc.message}}
        finally:
            backend.close()
        ctx.progress(1, 1, force=True, message_code="tag_test_passed" if outcome["ok"] else "tag_test_failed")
        return {"backend": name, "sample": sample.id, "elapsed_s": round(time.monotonic() - started, 2), **outcome}

    return svc.jobs.submit(TEST_KIND, f"Test {backend.label}", run, params={"backend": name},
                           owner="tagging", exclusive=True)


def start_download(svc, body: dict) -> dict:
    repo = hub.check_repo_id(body.get("repo") or svc.store.get_setting("tagging_wd14_repo") or "")
    endpoint = svc.store.get_setting("tagging_hf_endpoint") or "https://huggingface.co"
    dest = hub.repo_dir(svc.layout.models, repo)

    def run(ctx):
        stop = threading.Event()
        try:
            with stop_on_cancel(ctx, stop.set):
                hub.download_repo(endpoint, repo, dest, stop=stop, progress=lambda d, t, m: ctx.progress(
                    d, t, message_code="tag_downloading", params={"file": m, "pct": progress_pct(d, t)}))
        except TaggingError:
            if ctx.cancelled:
                raise JobCancelled() from None  # a cancelled download is not a failed one
            raise
        return {"repo": repo, "path": str(dest), "files": list(hub.WD14_FILES)}

    return svc.jobs.submit(DOWNLOAD_KIND, f"Download {repo}", run, params={"repo": repo},
                           owner=f"tagger:{repo}", exclusive=True)
