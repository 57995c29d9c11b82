"""Process identity and stopping a whole process tree (psutil).

`accelerate launch` spawns the training script as a child, so stopping the launcher alone would
leave the trainer holding the GPU. A pid alone is not an identity: after an app restart the
number may belong to another program, so a process is "ours" only if its create_time matches
what was recorded when it was started. A zombie (exited, not yet reaped) counts as gone.
"""

from __future__ import annotations

import psutil

CREATE_TIME_TOLERANCE_S = 0.05


def identity(pid: int) -> float | None:
    """create_time of `pid`, recorded next to the pid when a stage starts."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def find(pid: int | None, create_time: float | None) -> psutil.Process | None:
    """The live process with this pid *and* create time, else None."""
    if not pid:
        return None
    try:
        proc = psutil.Process(pid)
        if create_time is not None and abs(proc.create_time() - create_time) > CREATE_TIME_TOLERANCE_S:
            return None
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc
    except psutil.Error:
        return None


def tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return [proc]


def stop_tree(proc: psutil.Process, timeout: float) -> str:
    """End `proc` and all its descendants: terminate, then kill what is left after `timeout`.

    Returns "terminated" when the gentle request was enough, "killed" when force was needed.
    (On Windows psutil's terminate is already TerminateProcess, so it is always "terminated".)
    """
    procs = tree(proc)
    for p in procs:
        try:
            p.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    alive = [p for p in alive if _running(p)]
    if not alive:
        return "terminated"
    # Children may have spawned while we waited; collect them too before forcing.
    survivors = {p.pid: p for p in alive}
    for p in alive:
        for child in tree(p)[1:]:
            survivors.setdefault(child.pid, child)
    for p in survivors.values():
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(list(survivors.values()), timeout=5)
    return "killed"


def _running(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
