"""The tagging job: run a backend over a dataset (or a selection) and write the captions.

`start_tagging(svc, body)` validates the request, builds the backend (so bad options fail the
request with a 422, not the job) and submits the job; `run_tagging` is the job itself:

- items come from the dataset index; `only_empty` skips captioned items before the backend sees
  them (an API costs money per image), and checks again at write time against the file on disk;
- every caption goes through `postprocess` and is written as soon as it arrives (atomic file write,
  index update, `item_updated` on `dataset:<id>`), its before-value journaled in the run's undo step
  first (see `write_caption`);
- progress (done/total, rate, ETA) goes to `ctx.progress`, and each item to `job:<id>` as
  `tagging_item` events;
- a failing item is listed in the result and the run goes on; a backend that cannot start at all
  fails the job, and so does a run where every item failed (nothing to call "done": the job is
  `failed` with its result kept, `outcome` "failed"); some failures make `outcome` "partial";
- cancel works at any time (a watcher stops retries and subprocesses at once), and whatever was
  written, finished or not, killed or not, is ONE step of the dataset's undo history.
"""

from __future__ import annotations

import threading
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass, field

from ..datasets import captions, editing, items, listing, storage
from ..datasets.history import History
from ..errors import ValidationError
from ..jobs import JobFailed
from .base import Backend, Item
from .postprocess import MODES, PostProcess, clean, merge
from .registry import create

JOB_KIND = "autotag"
MAX_LISTED_ERRORS = 1000


@dataclass
class TagRequest:
    dataset_id: str
    backend: str
    options: dict = field(default_factory=dict)
    target: dict = field(default_factory=lambda: {"all": True})
    mode: str = "only_empty"
    post: PostProcess = field(default_factory=PostProcess)


def _bool(body: dict, key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise ValidationError(f"'{key}' must be true or false.", field=key)
    return value


def parse_request(store, dataset_id: str, body: dict) -> TagRequest:
    """A TagRequest from a request body, with the tagging settings as defaults."""
    backend = body.get("backend") or store.get_setting("tagging_backend") or "wd14"
    mode = body.get("mode") or store.get_setting("tagging_mode") or "only_empty"
    if mode not in MODES:
        raise ValidationError(f"'mode' must be one of {', '.join(MODES)}.", field="mode", code="bad_mode")
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise ValidationError("'options' must be an object.", field="options")
    trigger = body.get("trigger")
    if trigger is None:  # not sent: the dataset's own trigger word (the prompt's {trigger}, the caption prefix)
        trigger = storage.trigger_word(store, dataset_id) or ""
    if not isinstance(trigger, str) or "," in trigger or "\n" in trigger:
        raise ValidationError("The trigger word must be text without commas.", field="trigger", code="bad_trigger")
    blacklist = body.get("blacklist", store.get_setting("tagging_blacklist") or [])
    if isinstance(blacklist, str):
        blacklist = blacklist.split(",")
    if not isinstance(blacklist, list) or not all(isinstance(b, str) for b in blacklist):
        raise ValidationError("'blacklist' must be a list of words.", field="blacklist")
    target = body.get("target") or {"all": True}
    post = PostProcess(strip=_bool(body, "strip", True), dedupe=_bool(body, "dedupe", True),
                       blacklist=tuple(b.strip() for b in blacklist if b.strip()), trigger=trigger.strip(),
                       prefix_trigger=_bool(body, "prefix_trigger", bool(trigger.strip())))
    return TagRequest(dataset_id, backend, {**options, "trigger": trigger.strip()}, target, mode, post)


def start_tagging(svc, dataset_id: str, body: dict) -> dict:
    dataset = storage.get(svc, dataset_id)
    req = parse_request(svc.store, dataset_id, body)
    names = listing.resolve_target(svc, dataset_id, req.target)
    backend = create(req.backend, store=svc.store, layout=svc.layout, options=req.options)
    title = f"Auto-tag {dataset['name']} ({backend.label})"
    params = {"dataset_id": dataset_id, "backend": req.backend, "mode": req.mode, "items": len(names),
              "trigger": req.post.trigger}
    return svc.jobs.submit(JOB_KIND, title, lambda ctx: run_tagging(svc, ctx, req, names, backend),
                           params=params, owner=storage.topic(dataset_id), exclusive=True)


@contextmanager
def stop_on_cancel(ctx, stop):
    """Call `stop()` as soon as the job is cancelled, even while the worker waits on a server."""
    done = threading.Event()

    def watch():
        while not done.wait(0.2):
            if ctx.cancelled:
                stop()
                return

    thread = threading.Thread(target=watch, daemon=True, name=f"cancel-{ctx.id}")
    thread.start()
    try:
        yield
    finally:
        done.set()


class _Rate:
    """Items per second and time left, from when the first item started (model loading excluded)."""

    def __init__(self, total: int):
        self.total = total
        self.started = time.monotonic()

    def figures(self, done: int) -> dict:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else None
        return {"done": done, "total": self.total, "rate": round(rate, 3),
                "eta_s": round(eta, 1) if eta is not None else None}

    def message(self, done: int) -> dict:
        """The progress message (code and params of server/jobs/messages.py) for `done` items."""
        f = self.figures(done)
        params = {"done": done, "total": self.total, "rate": f"{f['rate']:.2f}"}
        if f["eta_s"] is not None and done < self.total:
            return {"message_code": "tag_rate_eta", "params": {**params, "eta_s": round(f["eta_s"])}}
        return {"message_code": "tag_rate", "params": params}


def select_items(svc, req: TagRequest, names: list[str]) -> tuple[list[Item], list[str]]:
    """Items to send to the backend, and the names skipped because they already have a caption."""
    dirs = storage.dataset_dirs(svc.layout, req.dataset_id)
    rows = items.rows_by_names(svc, req.dataset_id, names)
    todo, skipped = [], []
    for name in names:
        row = rows.get(name)
        if row is None:
            continue
        if req.mode == "only_empty" and (row["caption"] or "").strip():
            skipped.append(name)
            continue
        todo.append(Item(id=name, path=dirs.media / name, kind=row["kind"] or "image"))
    return todo, skipped


def write_caption(svc, req: TagRequest, run: "_Run", name: str, caption: str, kind: str) -> dict | None:
    """Write one caption now (the grid shows it at once), journaled first: the run's undo step is
    opened with the first change and each item's before-value is recorded before its file is written,
    so a run killed half-way can still be undone (datasets/recovery.py finishes the step at start).
    Returns the change, or None when the caption stays as it is."""
    dirs = storage.dataset_dirs(svc.layout, req.dataset_id)
    h = History(svc.store)
    with storage.dataset_lock(dirs):
        if not (dirs.media / name).is_file():
            items.refresh(svc, req.dataset_id, [name])
            return None
        before, too_large = captions.read_for_edit(dirs.media, name)
        if too_large:
            raise OSError(f"The caption of {name} is larger than a caption may be; it was left as it is.")
        after = merge(req.mode, before, clean(caption, kind, req.post), kind, req.post)
        if before is None and after == "":
            after = None
        if after == before:
            return None
        change = {"name": name, "before": before, "after": after}
        if run.step is None:
            run.step = h.open_step(req.dataset_id, run.label, [change], kind=JOB_KIND, op="autotag",
                                   params={"backend": run.backend.name})
        else:
            h.add_changes(req.dataset_id, run.step[0], [change])
        errors = editing.write_journaled(svc, req.dataset_id, [change], fsync=True)
        if errors:
            run.unwritten.append(name)  # close() takes it back out of the step
            raise OSError(errors[0]["message"])
        items.set_caption_rows(svc, req.dataset_id, [(name, after)])
    editing.publish_items(svc, req.dataset_id, [name])
    return change


def run_tagging(svc, ctx, req: TagRequest, names: list[str], backend: Backend) -> dict:
    todo, skipped = select_items(svc, req, names)
    run = _Run(svc, ctx, req, backend, len(todo))
    try:
        with stop_on_cancel(ctx, backend.stop):
            if todo:
                ctx.progress(0, len(todo), force=True, message_code="tag_preparing", params={"backend": backend.label})
                backend.prepare(lambda d, t, m: ctx.progress(message_code="tag_downloading",
                                                             params={"file": m, "pct": progress_pct(d, t)}))
                ctx.check()
                ctx.progress(force=True, message_code="tag_loading", params={"backend": backend.label})
                backend.load()
                ctx.check()
                run.rate = _Rate(len(todo))
            # closing(): on cancel the backend's worker pool or subprocess is shut down right here.
            with closing(backend.caption_many(todo)) as results:
                for result in results:
                    run.handle(result)
                    if ctx.cancelled:
                        backend.stop()  # before closing(): the backend must not wait for work in flight
                        break
    finally:
        backend.close()
        step = None
        if run.step is not None:
            step = History(svc.store).close(run.step[0], failed=run.unwritten)
            storage.touch(svc, req.dataset_id)
            editing.publish_history(svc, req.dataset_id)
    ctx.progress(run.done, len(todo), force=True, **run.rate.message(run.done))
    result = {
        "dataset_id": req.dataset_id, "backend": backend.name, "mode": req.mode, "targeted": len(names),
        "processed": run.done, "changed": len(run.changes), "skipped": len(skipped), "failed": run.failed,
        "errors": run.errors, "step_id": step["id"] if step else None, "cancelled": ctx.cancelled,
        "rate": run.rate.figures(run.done)["rate"], "outcome": _outcome(run, ctx.cancelled),
    }
    if result["outcome"] == "failed":
        raise JobFailed(f"All {run.failed} items failed; no caption was written.", result, code="tag_all_failed",
                        params={"failed": run.failed})
    return result


def _outcome(run: "_Run", cancelled: bool) -> str:
    """"failed" when items were tried and none succeeded (a cancelled run is just cancelled),
    "partial" when some failed, else "ok"."""
    if run.failed and run.failed == run.done and not cancelled:
        return "failed"
    return "partial" if run.failed else "ok"


class _Run:
    """The running tally of one tagging run: what was written (for undo), what failed, progress."""

    def __init__(self, svc, ctx, req: TagRequest, backend: Backend, total: int):
        self.svc, self.ctx, self.req, self.backend = svc, ctx, req, backend
        self.label = f"Auto-tag ({backend.short_label})"
        self.total = total
        self.rate = _Rate(total)
        self.done = 0
        self.failed = 0
        self.changes: list[dict] = []
        self.errors: list[dict] = []
        self.step: tuple[int, bool] | None = None  # the run's undo step, opened with its first change
        self.unwritten: list[str] = []

    def handle(self, result) -> None:
        self.done += 1
        name = result.item.id
        if result.ok:
            try:
                change = write_caption(self.svc, self.req, self, name, result.caption, self.backend.produces)
            except OSError as exc:
                self._fail({"name": name, "code": "caption_write_failed", "message": str(exc)})
            else:
                self._written(name, change)
        else:
            self._fail({"name": name, "code": result.code, "message": result.error})
        self.ctx.progress(self.done, self.total, **self.rate.message(self.done))
        self.ctx.event("tagging_progress", self.rate.figures(self.done))

    def _written(self, name: str, change: dict | None) -> None:
        if change:
            self.changes.append(change)
        self.ctx.event("tagging_item", {"name": name, "ok": True, "changed": bool(change),
                                        "caption": change["after"] if change else None})

    def _fail(self, error: dict) -> None:
        self.failed += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(error)
        self.ctx.event("tagging_item", {"ok": False, **error})


def progress_pct(done: int, total: int) -> str:
    return f"{done * 100 // total}%" if total else f"{done // (1 << 20)} MB"
