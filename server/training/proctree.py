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
    return stop_all([proc], timeout)


def stop_all(roots: list[psutil.Process], timeout: float) -> str:
    """stop_tree() for several processes at once (one wait for all of them)."""
    procs = list({p.pid: p for root in roots for p in tree(root)}.values())
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


class Tree:
    """Every process a stage started, remembered by (pid, create_time) as they appear.

    Killing the `accelerate` launcher does not kill the trainer it started: the child is re-parented
    and keeps the GPU, and `proc.children()` of a dead launcher finds nothing. So descendants are
    recorded while the launcher lives (`refresh()`, called as the stage is followed) and a stage
    counts as over only when none of them is left (`alive()`). The members are kept in the task's run
    record, so after an app restart the same tree is found again.
    """

    def __init__(self, members: list[list] | None = None):
        self.members: list[tuple[int, float | None]] = [(int(p), c) for p, c in (members or [])]

    def refresh(self) -> bool:
        """Add the descendants of every living member; True when a new one was found."""
        known = {pid for pid, _ in self.members}
        added = False
        for proc in self.alive():
            for child in tree(proc)[1:]:
                if child.pid not in known:
                    ctime = identity(child.pid)
                    if ctime is not None:
                        self.members.append((child.pid, ctime))
                        known.add(child.pid)
                        added = True
        return added

    def alive(self) -> list[psutil.Process]:
        out = []
        for pid, ctime in self.members:
            proc = find(pid, ctime)
            if proc is not None:
                out.append(proc)
        return out

    def stop(self, timeout: float) -> str:
        """stop_tree() for what is left of it: "terminated", "killed" or "gone" (nothing was left)."""
        self.refresh()
        procs = self.alive()
        if not procs:
            return "gone"
        return stop_all(procs, timeout)

    def as_list(self) -> list[list]:
        return [[pid, ctime] for pid, ctime in self.members]
