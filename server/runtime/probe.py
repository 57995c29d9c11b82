"""Ask the musubi interpreter what it has: run it on a small script (isolated mode, argv list, timeout).

The script prints one line `__LW_PROBE__{json}`; anything else the interpreter prints (warnings of a
broken install) is kept as `output` for the UI. Importing torch on Windows can take tens of seconds
the first time, hence the generous timeout.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from . import procs

MARK = "__LW_PROBE__"
TIMEOUT_S = 120

SCRIPT = r'''
import json, sys, platform
out = {"python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable, "prefix": sys.prefix,
       "base_prefix": getattr(sys, "base_prefix", sys.prefix), "platform": platform.platform(),
       "bits": 64 if sys.maxsize > 2**32 else 32}
try:
    import torch
    t = {"version": getattr(torch, "__version__", None), "cuda": getattr(getattr(torch, "version", None), "cuda", None),
         "cuda_available": False, "devices": []}
    try:
        t["cuda_available"] = bool(torch.cuda.is_available())
        if t["cuda_available"]:
            for i in range(torch.cuda.device_count()):
                d = {"index": i, "name": torch.cuda.get_device_name(i)}
                try:
                    d["capability"] = list(torch.cuda.get_device_capability(i))
                except Exception:
                    pass
                t["devices"].append(d)
            try:
                t["arch_list"] = list(torch.cuda.get_arch_list())
            except Exception:
                pass
    except Exception as e:
        t["cuda_error"] = "%s: %s" % (type(e).__name__, e)
    out["torch"] = t
except Exception as e:
    out["torch"] = None
    out["torch_error"] = "%s: %s" % (type(e).__name__, e)
for name in ("accelerate", "musubi_tuner"):
    try:
        m = __import__(name)
        out[name] = {"version": getattr(m, "__version__", None), "file": getattr(m, "__file__", None)}
    except Exception as e:
        out[name] = None
        out[name + "_error"] = "%s: %s" % (type(e).__name__, e)
print("__LW_PROBE__" + json.dumps(out))
'''


def run(python: Path | str, *, timeout: float = TIMEOUT_S, cwd=None) -> dict:
    """{"ok", "python_path", "at", "duration_s", ...probe fields} or {"ok": False, "error", "output"}."""
    started = time.time()
    res = procs.capture([str(python), "-I", "-c", SCRIPT], timeout=timeout, cwd=cwd)
    base = {"python_path": str(python), "at": started, "duration_s": round(time.time() - started, 2)}
    if res.error:
        return {**base, "ok": False, "error": res.error, "output": ""}
    if res.timed_out:
        return {**base, "ok": False, "error": f"The interpreter did not answer within {int(timeout)} s.",
                "output": procs.redact((res.stdout + res.stderr)[-4000:])}
    for line in res.stdout.splitlines():
        if line.startswith(MARK):
            try:
                data = json.loads(line[len(MARK):])
            except ValueError:
                break
            noise = "\n".join(ln for ln in res.stdout.splitlines() if not ln.startswith(MARK)) + res.stderr
            return {**base, "ok": True, **data, "output": procs.redact(noise[-4000:])}
    return {**base, "ok": False, "error": f"The interpreter exited with code {res.returncode} without answering.",
            "output": procs.redact((res.stdout + res.stderr)[-4000:])}
