"""In-process publish/subscribe for the websocket.

Any thread publishes `(topic, type, data)`; each websocket connection owns a Subscription
with a bounded queue and the set of topics it asked for. A topic pattern ending in `*`
matches by prefix (`task:*`). A slow client loses its oldest events rather than stalling
the publisher.

Events of short-lived topics (`job:<id>`) are retained for a while and replayed to a client
that subscribes late: a UI starts a job, learns its id from the answer and only then subscribes,
and a fast job has already published its first items by then.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
from typing import Any

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
    def __init__(self):
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
        event = {"topic": topic, "type": type, "data": data, "ts": time.time()}
        with self._lock:
            if topic.startswith(RETAINED_PREFIXES):
                self._retain(topic, event)
            for sub in self._subs:
                if sub.wants(topic):
                    sub.offer(event)
