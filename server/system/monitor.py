"""The system monitor: one background sampler for GPUs, CPU and RAM.

It samples about once a second only while someone listens on the `system` topic (or asked
through the API within the last few seconds), so an idle app costs next to nothing. The last
few minutes of samples are kept in memory for the small history charts.

The provider may be given as a zero-argument factory: the GPU probe (NVML's init: up to a second
with a driver) then runs on the monitor's own thread as it starts, off the app's start-up path, and
a request that needs a sample before that waits for the same probe.
"""

from __future__ import annotations

import collections
import threading
import time

import psutil

HISTORY = 180


class SystemMonitor:
    def __init__(self, bus, provider, interval: float = 1.0):
        self.bus = bus
        self._provider, self._make_provider = (provider, None) if hasattr(provider, "read") else (None, provider)
        self._provider_lock = threading.Lock()
        self.interval = interval
        self.history: collections.deque = collections.deque(maxlen=HISTORY)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._last_api_read = 0.0
        self._thread = threading.Thread(target=self._loop, name="system-monitor", daemon=True)
        psutil.cpu_percent(None)  # prime: the first call always returns 0.0

    def start(self) -> "SystemMonitor":
        self._thread.start()
        return self

    @property
    def provider(self):
        with self._provider_lock:
            if self._provider is None:
                self._provider = self._make_provider()
            return self._provider

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)
        with self._provider_lock:
            if self._provider is not None:   # never probed: nothing to close
                self._provider.close()

    def sample(self) -> dict:
        mem = psutil.virtual_memory()
        snap = {
            "ts": time.time(),
            "gpu_available": bool(self.provider.available),
            "driver": self.provider.driver,
            "gpus": self.provider.read() if self.provider.available else [],
            "cpu_pct": psutil.cpu_percent(None),
            "cpu_count": psutil.cpu_count(),
            "ram_used_mb": round((mem.total - mem.available) / 2**20),
            "ram_total_mb": round(mem.total / 2**20),
        }
        with self._lock:
            self.history.append(snap)
        return snap

    def snapshot(self, with_history: bool = False) -> dict:
        self._last_api_read = time.monotonic()
        with self._lock:
            latest = self.history[-1] if self.history else None
        if latest is None or time.time() - latest["ts"] > self.interval * 2:
            latest = self.sample()
        out = dict(latest)
        if with_history:
            with self._lock:
                out["history"] = list(self.history)
        return out

    def _wanted(self) -> bool:
        return self.bus.listeners("system") > 0 or time.monotonic() - self._last_api_read < 5

    def _loop(self) -> None:
        self.provider  # noqa: B018 - probe now, in the background, not on the first request that asks
        while not self._stop.wait(self.interval):
            if self._wanted():
                self.bus.publish("system", "sample", self.sample())
