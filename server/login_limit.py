"""Rate limit on wrong launch secrets, per client address (server mode).

A listening server can be reached by anyone on the network, so guessing the secret must be slow.
What counts is the number of *different* wrong secrets an address tried within the window: a
browser that keeps sending one stale cookie (the secret changed with a restart) is not guessing
and is never locked out, while a brute force needs a new value on every try. Past the limit the
address is refused (429 `too_many_attempts`, `retry_after` seconds) until its oldest failure
leaves the window, even with the right secret, so guesses cannot go on at full speed.

Secrets are kept only as SHA-256 digests, and the table is bounded (oldest addresses dropped).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict

MAX_FAILURES = 10
WINDOW_S = 15 * 60
MAX_ADDRESSES = 10_000


class AttemptLimiter:
    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S, clock=time.monotonic):
        self.max_failures, self.window_s, self._clock = max_failures, window_s, clock
        self._failures: OrderedDict[str, dict[str, float]] = OrderedDict()  # address -> {digest: when}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> dict[str, float]:
        seen = self._failures.get(address, {})
        for digest in [d for d, when in seen.items() if now - when >= self.window_s]:
            del seen[digest]
        return seen

    def retry_after(self, address: str) -> int | None:
        """Seconds until `address` may try again, or None when it is not locked out."""
        with self._lock:
            now = self._clock()
            seen = self._recent(address, now)
            if len(seen) < self.max_failures:
                return None
            return max(1, math.ceil(min(seen.values()) + self.window_s - now))

    def failed(self, address: str, secret: str) -> None:
        digest = hashlib.sha256(str(secret).encode("utf-8", "surrogatepass")).hexdigest()
        with self._lock:
            now = self._clock()
            seen = self._recent(address, now)
            seen[digest] = now
            self._failures[address] = seen
            self._failures.move_to_end(address)
            while len(self._failures) > MAX_ADDRESSES:
                self._failures.popitem(last=False)
