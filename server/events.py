"""In-process publish/subscribe for the websocket.

Any thread publishes `(topic, type, data)`; each websocket connection owns a Subscription
with a bounded queue and the set of topics it asked for. A topic pattern ending in `*`
matches by prefix (`task:*`). A slow client loses its oldest events rather than stalling
the publisher.

Events of short-lived topics (`job:<id>`) are retained for a while and replayed to a client
that subscribes late: a UI starts a job, learns its id from the answer and only then subscribes,
and a fast job has already published its first items by then.

EVENTS declares every event: its topic family, its type and the payload keys it always carries. The UI
gets it from GET /api/meta; tests/server/test_event_table.py checks the UI's handlers against it, and
with LORA_WORKBENCH_STRICT_EVENTS=1 (every test run) publishing an undeclared event or one without its
keys raises. A running app only logs such a mistake: a live event is never worth a failed job.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Event:
    topic: str              # "tasks", or a family of topics: "task:" for task:<id>
    type: str
    keys: tuple[str, ...]   # what a dict payload always has (it may carry more)
    about: str


# Records (a job, a task, a dataset, an item) are the same dicts the REST API answers.
EVENTS: tuple[Event, ...] = (
    Event("system", "sample", ("ts", "gpu_available", "gpus"), "a GPU/CPU/RAM reading (system/monitor.py)"),
    Event("jobs", "job", ("id", "status"), "a job record changed"),
    Event("job:", "job", ("id", "status"), "this job's record changed (progress, final status)"),
    Event("job:", "log", ("text",), "trainer set-up console output (runtime/setup.py)"),
    Event("job:", "tagging_progress", ("done", "total", "rate", "eta_s"), "auto-tag speed and time left"),
    Event("job:", "tagging_item", ("ok",), "one item tagged (name, changed...) or failed (error fields)"),
    Event("tasks", "task", ("id", "status"), "a task record was created or changed"),
    Event("tasks", "deleted", ("id",), "a task was deleted"),
    Event("tasks", "queue", ("order", "queue"), "the training queue's order"),
    Event("tasks", "presets", ("name",), "a user preset was saved or deleted (deleted: true)"),
    Event("task:", "status", ("id", "status"), "this task's record (status, run_no, progress)"),
    Event("task:", "reattached", ("pid", "stage"), "the app restarted and found the trainer still running"),
    Event("task:", "stage", ("stage", "skipped"), "a stage (cache_latents, cache_text_encoder, train) began"),
    Event("task:", "log", ("stage", "text"), "console output of the running stage"),
    Event("task:", "progress", (), "the progress parser's snapshot (step, epoch, speed...)"),
    Event("task:", "loss", ("points",), "new loss points: [{step, epoch, loss}]"),
    Event("task:", "sampling", ("type",), "musubi began writing sample images"),
    Event("task:", "checkpoint", (), "a new checkpoint file (training/outputs.py)"),
    Event("task:", "sample", (), "a new sample image or video (training/outputs.py)"),
    Event("task:", "converted", (), "a checkpoint was converted for ComfyUI"),
    Event("datasets", "dataset_created", ("id",), "a dataset record"),
    Event("datasets", "dataset_updated", ("id",), "a dataset record"),
    Event("datasets", "dataset_trashed", ("id",), "a dataset record"),
    Event("datasets", "dataset_restored", ("id",), "a dataset record"),
    Event("datasets", "dataset_purged", ("id",), "a dataset was deleted for good"),
    Event("dataset:", "dataset_updated", ("id",), "this dataset's record"),
    Event("dataset:", "dataset_trashed", ("id",), "this dataset went to the trash"),
    Event("dataset:", "import_finished", ("job_id",), "an import job's report"),
    Event("dataset:", "item_updated", ("name",), "one item's record (caption, tags...)"),
    Event("dataset:", "items_added", ("count", "names"), "items appeared (names: the first ones)"),
    Event("dataset:", "items_removed", ("count", "names"), "items went away"),
    Event("dataset:", "items_updated", ("count", "names"), "several items changed"),
    Event("dataset:", "item_broken", ("name", "error"), "a file could not be read for its thumbnail"),
    Event("dataset:", "thumbnails", ("done", "total"), "thumbnail job progress"),
    Event("dataset:", "history", ("can_undo", "can_redo", "undo", "redo"), "undo/redo pointers"),
    Event("settings", "settings", (), "the saved settings (secrets masked)"),
    Event("settings", "runtime", ("usable",), "the trainer environment was checked again"),
    Event("settings", "model_library", (), "the model library's paths"),
)
_DECLARED = {(e.topic, e.type): e for e in EVENTS}


class UndeclaredEvent(ValueError):
    """A publish that EVENTS does not declare (or without a declared payload key)."""


def declared(topic: str, type: str) -> Event | None:
    family = topic.split(":", 1)[0] + ":" if ":" in topic else topic
    return _DECLARED.get((family, type))


def check(topic: str, type: str, data: Any) -> None:
    """Raise UndeclaredEvent unless (topic, type) is declared and a dict payload has its keys."""
    event = declared(topic, type)
    if event is None:
        raise UndeclaredEvent(f"event {type!r} on {topic!r} is not declared in server/events.py EVENTS")
    missing = [k for k in event.keys if not isinstance(data, dict) or k not in data]
    if missing:
        raise UndeclaredEvent(f"event {type!r} on {topic!r} lacks {missing}")


def public() -> dict:
    """{topic family: {type: [keys]}} for the UI (GET /api/meta)."""
    out: dict = {}
    for e in EVENTS:
        out.setdefault(e.topic, {})[e.type] = list(e.keys)
    return out


RETAINED_PREFIXES = ("job:",)
RETAINED_TOPICS = 64      # how many topics keep a replay buffer (least recently used dropped)
RETAINED_EVENTS = 1000    # events kept per topic


class Subscription:
    def __init__(self, bus: "EventBus", maxsize: int = 2000):
        self._bus = bus
        self.topics: set[str] = set()
        self.queue: queue.Queue = queue.Queue(maxsize=maxsize)
        self.dropped = 0

    def subscribe(self, *topics: str) -> None:
        self._bus._subscribe(self, [t for t in topics if t])

    def unsubscribe(self, *topics: str) -> None:
        self.topics.difference_update(topics)

    def wants(self, topic: str) -> bool:
        if topic in self.topics:
            return True
        return any(t.endswith("*") and topic.startswith(t[:-1]) for t in self.topics)

    def offer(self, event: dict) -> None:
        while True:
            try:
                self.queue.put_nowait(event)
                return
            except queue.Full:
                try:
                    self.queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def get(self, timeout: float | None = None) -> dict | None:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._bus._remove(self)


class EventBus:
    def __init__(self, strict: bool | None = None):
        # Strict (tests): an undeclared event raises in the publisher; otherwise it is logged and sent.
        self.strict = os.environ.get("LORA_WORKBENCH_STRICT_EVENTS") == "1" if strict is None else strict
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()
        self._retained: collections.OrderedDict[str, collections.deque] = collections.OrderedDict()

    def _subscribe(self, sub: Subscription, topics: list[str]) -> None:
        # Under the publish lock, so a replayed event can neither be missed nor delivered twice.
        with self._lock:
            for topic in topics:
                if topic not in sub.topics:
                    for event in self._retained.get(topic, ()):
                        sub.offer(event)
                sub.topics.add(topic)

    def _retain(self, topic: str, event: dict) -> None:
        buf = self._retained.get(topic)
        if buf is None:
            buf = self._retained[topic] = collections.deque(maxlen=RETAINED_EVENTS)
            while len(self._retained) > RETAINED_TOPICS:
                self._retained.popitem(last=False)
        else:
            self._retained.move_to_end(topic)
        buf.append(event)

    def subscription(self) -> Subscription:
        sub = Subscription(self)
        with self._lock:
            self._subs.append(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def listeners(self, topic: str) -> int:
        """How many connections want `topic`; publishers of costly data check this first."""
        with self._lock:
            return sum(1 for s in self._subs if s.wants(topic))

    def publish(self, topic: str, type: str, data: Any = None) -> None:
        try:
            check(topic, type, data)
        except UndeclaredEvent:
            if self.strict:
                raise
            log.warning("publishing an undeclared event", exc_info=True)
        event = {"topic": topic, "type": type, "data": data, "ts": time.time()}
        with self._lock:
            if topic.startswith(RETAINED_PREFIXES):
                self._retain(topic, event)
            for sub in self._subs:
                if sub.wants(topic):
                    sub.offer(event)
