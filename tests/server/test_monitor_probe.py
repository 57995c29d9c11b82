"""The GPU probe (NVML's init) runs on the monitor's thread, not on the app's way to its first page."""

from __future__ import annotations

import threading
import time

from server.events import EventBus
from server.system.gpu import NoGpuProvider
from server.system.monitor import SystemMonitor


def test_the_gpu_probe_runs_once_on_the_monitors_thread():
    release, probed_on = threading.Event(), []

    def probe():
        probed_on.append(threading.current_thread().name)
        assert release.wait(10)
        return NoGpuProvider()

    monitor = SystemMonitor(EventBus(), probe)
    monitor.start()   # returns while the probe is still running
    try:
        deadline = time.monotonic() + 10
        while not probed_on and time.monotonic() < deadline:
            time.sleep(0.01)
        assert probed_on == ["system-monitor"]
        release.set()
        snap = monitor.snapshot()   # waits for that probe, does not start another
        assert snap["gpu_available"] is False and snap["gpus"] == []
        assert probed_on == ["system-monitor"]
    finally:
        release.set()
        monitor.stop()


def test_a_monitor_stopped_before_probing_does_not_probe_to_close():
    calls = []
    monitor = SystemMonitor(EventBus(), lambda: calls.append(1) or NoGpuProvider())
    monitor.stop()
    assert calls == []
