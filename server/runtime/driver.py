"""NVIDIA driver -> the highest CUDA version it runs -> which torch build setup installs.

The CUDA version comes from NVML (`nvmlSystemGetCudaDriverVersion`, e.g. 12080 = 12.8), as
`nvidia-smi` prints it. musubi-tuner's extras: cu124 (torch>=2.5.1), cu128 (torch>=2.7.1),
cu130 (torch>=2.9.1). A CUDA 12.x/13.x build needs a driver that supports at least that version.

Choice (`choose_extra`): cu128 when the driver allows it (the build PyTorch tests most widely; it is
also the first with RTX 50 "Blackwell" kernels), cu130 only when the driver supports 13.0 and cu128 is
not possible (never: 13.0 >= 12.8) or the user picks it, cu124 for drivers between 12.4 and 12.8.
RTX 50-series cards have no kernels in cu124 builds.

`LORA_WORKBENCH_NVIDIA_DRIVER="<driver>/<cuda>"` (e.g. "570.86/12.8") stands in for NVML in tests
and demos, like LORA_WORKBENCH_GPU_PROVIDER does for the monitor.
"""

from __future__ import annotations

import os
import re

EXTRAS = (("cu130", (13, 0)), ("cu128", (12, 8)), ("cu124", (12, 4)))
MIN_DRIVER_HINT = {"cu124": "550", "cu128": "570", "cu130": "580"}
BLACKWELL = re.compile(r"RTX\s*50\d\d|RTX PRO \d+ Blackwell|\bB[12]00\b|GB[12]0\d", re.I)


def _parse_cuda(value) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, int):
        return (value // 1000, (value % 1000) // 10)
    m = re.match(r"(\d+)\.(\d+)", str(value))
    return (int(m.group(1)), int(m.group(2))) if m else None


def read_driver(provider=None) -> dict:
    """{"available", "driver", "cuda" ("12.8" or None), "gpus": [names], "error"}."""
    fake = os.environ.get("LORA_WORKBENCH_NVIDIA_DRIVER")
    if fake is not None:
        if not fake or fake == "none":
            return {"available": False, "driver": None, "cuda": None, "gpus": [], "error": "no NVIDIA driver"}
        driver, _, cuda = fake.partition("/")
        names = [g.get("name") for g in provider.read()] if provider is not None and provider.available else []
        return {"available": True, "driver": driver, "cuda": cuda or None, "gpus": names, "error": None}
    if provider is None or not getattr(provider, "available", False):
        return {"available": False, "driver": getattr(provider, "driver", None), "cuda": None, "gpus": [],
                "error": getattr(provider, "error", None) or "no NVIDIA GPU found"}
    cuda = None
    nvml = getattr(provider, "_nvml", None)
    if nvml is not None:
        for fn in ("nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion"):
            try:
                parsed = _parse_cuda(getattr(nvml, fn)())
                cuda = f"{parsed[0]}.{parsed[1]}" if parsed else None
                break
            except Exception:  # noqa: BLE001 - older drivers lack one of the two
                continue
    try:
        names = [g.get("name") for g in provider.read()]
    except Exception:  # noqa: BLE001
        names = []
    return {"available": True, "driver": provider.driver, "cuda": cuda, "gpus": names, "error": None}


def supported_extras(cuda: str | None) -> list[str]:
    version = _parse_cuda(cuda)
    if version is None:
        return []
    return [name for name, need in EXTRAS if version >= need]


def choose_extra(cuda: str | None, gpu_names: list[str] | None = None) -> str | None:
    allowed = supported_extras(cuda)
    if not allowed:
        return None
    blackwell = any(BLACKWELL.search(n or "") for n in gpu_names or [])
    for preferred in ("cu128", "cu130", "cu124"):
        if preferred in allowed and not (blackwell and preferred == "cu124"):
            return preferred
    return None
