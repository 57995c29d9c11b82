"""GPU readings behind a provider seam.

`NvmlProvider` reads every NVIDIA GPU through pynvml (nvidia-ml-py). Each reading is guarded on
its own because consumer cards and drivers leave some queries unsupported (fan speed on laptops,
power limit on some models): a missing value is None, never an error. With no driver the provider
reports `available = False` and an empty list, and everything else in the app keeps working.

`RecordedProvider` replays readings from a JSON file (a list of frames, each a list of GPU dicts in
the same shape), for tests and demos on machines without a GPU.
"""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)

FIELDS = ("index", "name", "uuid", "memory_total_mb", "memory_used_mb", "utilization_pct", "temperature_c",
          "fan_pct", "memory_clock_mhz", "power_w", "power_limit_w")


class NvmlProvider:
    def __init__(self):
        self.available = False
        self.error = None
        self._handles = []
        try:
            import pynvml

            pynvml.nvmlInit()
            self._nvml = pynvml
            count = pynvml.nvmlDeviceGetCount()
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            self.available = count > 0
            self.driver = _text(pynvml.nvmlSystemGetDriverVersion())
        except Exception as exc:  # noqa: BLE001 - no driver / no library: "no GPU", not a crash
            self.error = str(exc)
            self.driver = None

    def read(self) -> list[dict]:
        return [self._read_one(i, h) for i, h in enumerate(self._handles)]

    def _read_one(self, index: int, h) -> dict:
        n = self._nvml

        def q(fn, *args):
            try:
                return fn(h, *args)
            except Exception:  # noqa: BLE001 - unsupported query on this card
                return None

        mem = q(n.nvmlDeviceGetMemoryInfo)
        util = q(n.nvmlDeviceGetUtilizationRates)
        power = q(n.nvmlDeviceGetPowerUsage)
        limit = q(n.nvmlDeviceGetEnforcedPowerLimit)
        return {
            "index": index,
            "name": _text(q(n.nvmlDeviceGetName)),
            "uuid": _text(q(n.nvmlDeviceGetUUID)),
            "memory_total_mb": round(mem.total / 2**20) if mem else None,
            "memory_used_mb": round(mem.used / 2**20) if mem else None,
            "utilization_pct": util.gpu if util else None,
            "temperature_c": q(n.nvmlDeviceGetTemperature, n.NVML_TEMPERATURE_GPU),
            "fan_pct": q(n.nvmlDeviceGetFanSpeed),
            "memory_clock_mhz": q(n.nvmlDeviceGetClockInfo, n.NVML_CLOCK_MEM),
            "power_w": round(power / 1000, 1) if power is not None else None,
            "power_limit_w": round(limit / 1000, 1) if limit is not None else None,
        }

    def close(self) -> None:
        if self._handles:
            try:
                self._nvml.nvmlShutdown()
            except Exception:  # noqa: BLE001
                pass


class RecordedProvider:
    def __init__(self, path: Path | str):
        frames = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(frames, list) or not frames:
            raise ValueError(f"{path}: expected a non-empty list of frames")
        self._frames = itertools.cycle(frames)
        self.available = bool(frames[0])
        self.driver = "recorded"
        self.error = None

    def read(self) -> list[dict]:
        return [{k: gpu.get(k) for k in FIELDS} for gpu in next(self._frames)]

    def close(self) -> None:
        pass


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


class NoGpuProvider:
    """A machine without an NVIDIA GPU, on purpose (tests, `--gpu-provider none`)."""

    available = False
    driver = None
    error = "disabled"

    def read(self) -> list[dict]:
        return []

    def close(self) -> None:
        pass


def make_provider(spec: str | None = None):
    """`None`/"nvml" -> NVML; "recorded:<path>" -> replay; "none" -> no GPU."""
    if spec and spec.startswith("recorded:"):
        return RecordedProvider(spec.split(":", 1)[1])
    if spec == "none":
        return NoGpuProvider()
    return NvmlProvider()
