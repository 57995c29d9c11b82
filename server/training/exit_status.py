"""How a stage's process ended, in words a user can act on (and a code the UI translates).

POSIX: Popen reports a process killed by a signal as a negative exit code (-9); a process that
called `sys.exit(-9)` or a shell wrapper reports 247 / 137. accelerate's launcher turns its child's
death into `subprocess.CalledProcessError ... died with <Signals.SIGKILL: 9>` and exits with 1,
so the signal that killed the TRAINER is read from that line (progress.launcher_wrapper).
Windows has no signals: a crash is an NTSTATUS code (0xC0000005, shown unsigned or, through some
APIs, negative), and a process ended from outside exits with whatever code its killer chose.

`describe()` returns {"code": <i18n key suffix>, ...params}; `english()` is the same in English for
the task's `error` text (logs, API clients); the UI shows `training.failure.<code>` instead.
"""

from __future__ import annotations

import signal
import sys

# NTSTATUS codes a crashed Python/torch process ends with, named like Microsoft names them.
NTSTATUS = {
    0xC0000005: "STATUS_ACCESS_VIOLATION",
    0xC000001D: "STATUS_ILLEGAL_INSTRUCTION",
    0xC0000017: "STATUS_NO_MEMORY",
    0xC00000FD: "STATUS_STACK_OVERFLOW",
    0xC0000135: "STATUS_DLL_NOT_FOUND",
    0xC0000139: "STATUS_ENTRYPOINT_NOT_FOUND",
    0xC0000142: "STATUS_DLL_INIT_FAILED",
    0xC000013A: "STATUS_CONTROL_C_EXIT",
    0xC0000409: "STATUS_STACK_BUFFER_OVERRUN",
    0xC0000374: "STATUS_HEAP_CORRUPTION",
    0xE06D7363: "C++ exception",
}
# Out-of-memory kills and crashes where a hint helps more than the number.
HINTS = {"SIGKILL": "oom", "STATUS_NO_MEMORY": "oom", "STATUS_ACCESS_VIOLATION": "crash",
         "STATUS_STACK_BUFFER_OVERRUN": "crash", "STATUS_HEAP_CORRUPTION": "crash",
         "STATUS_DLL_NOT_FOUND": "install", "STATUS_DLL_INIT_FAILED": "install",
         "STATUS_ENTRYPOINT_NOT_FOUND": "install"}


def signal_name(number: int) -> str | None:
    try:
        return signal.Signals(number).name
    except ValueError:
        return None


def describe(exit_code: int | None, *, wrapper: dict | None = None, platform: str = sys.platform) -> dict:
    """`exit_code` of the stage's own process; `wrapper` what accelerate said of its child, if anything."""
    if wrapper and wrapper.get("signal"):
        # The launcher exited normally (1) but its child, the trainer, was killed by a signal.
        name = wrapper["signal"]
        return {"code": "trainer_signal", "signal": name, "number": wrapper["signum"], "hint": HINTS.get(name)}
    if wrapper and wrapper.get("status") is not None:
        exit_code = wrapper["status"]   # the trainer's own code (on Windows its NTSTATUS), not the launcher's 1
    if exit_code is None:
        return {"code": "unknown_exit"}
    if platform == "win32":
        status = exit_code & 0xFFFFFFFF
        if status >= 0xC0000000 or status in NTSTATUS:
            name = NTSTATUS.get(status)
            return {"code": "windows_status", "status": f"0x{status:08X}", "name": name, "hint": HINTS.get(name)}
        return {"code": "exit_code", "exit_code": exit_code}
    if exit_code < 0 and (name := signal_name(-exit_code)):
        return {"code": "signal", "signal": name, "number": -exit_code, "hint": HINTS.get(name)}
    # 128+N (a shell) or 256-N (`sys.exit(-N)`, as some launchers do): probably signal N, say so.
    for number in (exit_code - 128, 256 - exit_code):
        if 128 < exit_code < 256 and (name := signal_name(number)) and number in (
                signal.SIGKILL, signal.SIGTERM, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGINT):
            return {"code": "exit_code_signal", "exit_code": exit_code, "signal": name, "number": number,
                    "hint": HINTS.get(name)}
    return {"code": "exit_code", "exit_code": exit_code}


HINT_TEXT = {"oom": " (often: the system ran out of memory)", "crash": " (a crash in native code)",
             "install": " (a missing or broken library in the trainer environment)"}


def english(stage: str, info: dict) -> str:
    """One sentence for the task's `error` field."""
    code, hint = info["code"], HINT_TEXT.get(info.get("hint") or "", "")
    if code == "trainer_signal":
        return f"{stage}: the trainer was killed by signal {info['signal']} ({info['number']}){hint}"
    if code == "signal":
        return f"{stage} was killed by signal {info['signal']} ({info['number']}){hint}"
    if code == "exit_code_signal":
        return (f"{stage} exited with code {info['exit_code']} (probably signal {info['signal']})"
                f"{hint}")
    if code == "windows_status":
        return f"{stage} ended with Windows status {info['status']}" + (
            f" ({info['name']})" if info.get("name") else "") + hint
    if code == "exit_code":
        return f"{stage} exited with code {info['exit_code']}"
    if code == "interrupted":
        return "The app stopped while this task was running and its process is gone."
    if code == "launcher_lost":
        how = f"was killed by signal {info['signal']} ({info['number']})" if info.get("signal") else "ended"
        return f"{stage}: the launcher (accelerate) {how} while the trainer was still running; the trainer was stopped"
    return f"{stage} ended without finishing"
