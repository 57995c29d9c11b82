"""Undo/redo steps for caption changes, stored in sqlite so they survive a restart.

A step is a label plus, per affected item, the caption text before and after (None = there was
no caption file). Anything that rewrites captions records one step - a single edit, a batch tag
operation, or a whole auto-tagging run:

    History(svc.store).record_step(dataset_id, "Auto-tag (WD14)", [{"name": "a.png", "before": None, "after": "1girl"}],
                                   op="autotag", params={"backend": "wd14"})

`label` is English for logs and old clients; `op` (a machine name: add_tags, replace_tag, edit_caption,
edit_tags, autotag...) and `params` (a small JSON object, cut down by `small_params`) are what the UI
translates into the user's language.

Most callers use `editing.apply_captions()`, which writes the files and records the step in one go.
Steps form a linear stack: undo takes the newest active step back, redo re-applies the most recently
undone one, and recording a new step drops everything that could still be redone.
"""

from __future__ import annotations

import json
import time
from typing import Iterable

from ..store import transaction

MAX_STEPS = 200
# Typing in a caption box autosaves every second or so; edits of one item within this window
# merge into one step so undo goes back to before the user started typing, not one keystroke.
COALESCE_SECONDS = 60
# Step params are for showing the step, not for replaying it: strings and lists are cut short.
PARAM_STR_MAX = 100
PARAM_LIST_MAX = 10
PARAMS_JSON_MAX = 2000
STEP_COLUMNS = "id, dataset_id, label, op, params, kind, item_count, undone, pending, created_at, updated_at"


def _small(value):
    if isinstance(value, str):
        return value if len(value) <= PARAM_STR_MAX else value[:PARAM_STR_MAX - 1] + "…"
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_small(v) for v in list(value)[:PARAM_LIST_MAX]]
    if isinstance(value, dict):
        return {str(k): _small(v) for k, v in list(value.items())[:PARAM_LIST_MAX]}
    return _small(str(value))


def small_params(params: dict | None) -> dict:
    """A JSON-safe, size-capped copy of an op's params for the history (never more than ~2 kB)."""
    out = _small(dict(params or {}))
    if len(json.dumps(out, ensure_ascii=False)) > PARAMS_JSON_MAX:
        out = {k: v for k, v in out.items() if not isinstance(v, (str, list, dict))}
    return out


def _change(c) -> dict:
    if isinstance(c, dict):
        return {"name": c["name"], "before": c.get("before"), "after": c.get("after")}
    name, before, after = c
    return {"name": name, "before": before, "after": after}


class History:
    def __init__(self, store):
        self.store = store

    @property
    def db(self):
        return self.store.db

    def record_step(self, dataset_id: str, label: str, changes: Iterable, *, kind: str = "op",
                    coalesce: bool = False, op: str | None = None, params: dict | None = None) -> dict | None:
        """Store one undoable step for changes already on disk; before == after is dropped. Returns the
        step or None. `op` defaults to "other" (the UI then shows the English label)."""
        opened = self.open_step(dataset_id, label, changes, kind=kind, coalesce=coalesce, op=op, params=params)
        return self.close(*opened) if opened else None

    # ---- the journal: a step is recorded BEFORE its files are written ----------------------------
    #
    # open_step / open_replay mark the step `pending` and write one journal row per caption about to
    # change (src -> dst), in the same transaction; the caller then writes the files and calls close(),
    # which drops the journal and what failed, in one transaction. A crash in between leaves a pending
    # step that recovery.py finishes at the next start, so files, index and undo always agree.

    def open_step(self, dataset_id: str, label: str, changes: Iterable, *, kind: str = "op",
                  coalesce: bool = False, op: str | None = None,
                  params: dict | None = None) -> tuple[int, bool] | None:
        """A new pending step (or, for `coalesce`, the last one reopened) for changes not yet written:
        `before` is the text on disk now, `after` the text about to be written. Returns (step id, merged)."""
        changes = [c for c in map(_change, changes) if c["before"] != c["after"]]
        if not changes:
            return None
        db = self.db
        now = time.time()
        with transaction(db):
            redoable = [r[0] for r in db.execute(
                "SELECT id FROM dataset_history WHERE dataset_id = ? AND undone = 1 AND pending IS NULL",
                [dataset_id])]
            self._delete(redoable)
            step_id = self._coalesce(dataset_id, kind, changes[0], now) \
                if coalesce and len(changes) == 1 and not redoable else None
            merged = step_id is not None
            if not merged:
                cur = db.execute(
                    "INSERT INTO dataset_history (dataset_id, label, op, params, kind, item_count, undone, created_at, "
                    "updated_at, pending) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, 'apply')",
                    [dataset_id, label, op or "other", json.dumps(small_params(params), ensure_ascii=False), kind,
                     len(changes), now, now])
                step_id = cur.lastrowid
                self._insert_changes(step_id, changes)
                self._prune(dataset_id)   # only a new step can take the history past its length
            self._journal(dataset_id, step_id, [(c["name"], c["before"], c["after"]) for c in changes])
        return step_id, merged

    def add_changes(self, dataset_id: str, step_id: int, changes: Iterable) -> None:
        """More changes for an open step (an auto-tag run journals each item just before writing it)."""
        changes = [c for c in map(_change, changes) if c["before"] != c["after"]]
        if not changes:
            return
        with transaction(self.db):
            self._insert_changes(step_id, changes)
            self._journal(dataset_id, step_id, [(c["name"], c["before"], c["after"]) for c in changes])
            self.db.execute("UPDATE dataset_history SET item_count = item_count + ?, updated_at = ? WHERE id = ?",
                            [len(changes), time.time(), step_id])

    def open_replay(self, dataset_id: str, step_id: int, direction: str, writes: list[dict]) -> None:
        """Undo or redo about to write `writes` ({name, before: text now, after: text to write})."""
        with transaction(self.db):
            self.db.execute("UPDATE dataset_history SET pending = ? WHERE id = ?", [direction, step_id])
            self._journal(dataset_id, step_id, [(w["name"], w["before"], w["after"]) for w in writes])

    def close(self, step_id: int, merged: bool = False, failed: Iterable[str] = ()) -> dict | None:
        """The step's files are written (those in `failed` could not be): end its pending state.
        An applied change that failed is dropped from the step, and a step left with no change goes."""
        db = self.db
        failed = list(failed)
        with transaction(db):
            row = db.execute("SELECT pending FROM dataset_history WHERE id = ?", [step_id]).fetchone()
            pending = row[0] if row else None
            if pending == "apply":
                for name in failed:  # the file kept its text: the step's `after` is that text again
                    db.execute("UPDATE dataset_history_changes SET after = (SELECT src FROM dataset_journal "
                               "WHERE step_id = ? AND name = ? ORDER BY id DESC LIMIT 1) "
                               "WHERE step_id = ? AND name = ?",
                               [step_id, name, step_id, name])
                db.execute("DELETE FROM dataset_history_changes WHERE step_id = ? AND before IS after", [step_id])
            db.execute("DELETE FROM dataset_journal WHERE step_id = ?", [step_id])
            if row is None:
                return None
            left = db.execute("SELECT COUNT(*) FROM dataset_history_changes WHERE step_id = ?",
                              [step_id]).fetchone()[0]
            if not left:
                self._delete([step_id])
                return {"id": None, "label": None, "op": None, "params": {}, "merged": True, "item_count": 0} \
                    if merged else None
            undone = {"undo": 1, "redo": 0}.get(pending)
            db.execute("UPDATE dataset_history SET pending = NULL, item_count = ?, undone = COALESCE(?, undone) "
                       "WHERE id = ?", [left, undone, step_id])
        step = self.step(step_id)
        return {**step, "merged": True} if merged else step

    def pending_steps(self) -> list[dict]:
        """Steps a crash left open: [{id, dataset_id, pending, journal: [{name, src, dst}]}]."""
        out = []
        for step_id, dataset_id, pending in self.db.execute(
                "SELECT id, dataset_id, pending FROM dataset_history WHERE pending IS NOT NULL ORDER BY id").fetchall():
            journal = [{"name": n, "src": s, "dst": d} for n, s, d in self.db.execute(
                "SELECT name, src, dst FROM dataset_journal WHERE step_id = ? ORDER BY id", [step_id])]
            out.append({"id": step_id, "dataset_id": dataset_id, "pending": pending, "journal": journal})
        return out

    def _insert_changes(self, step_id: int, changes: list[dict]) -> None:
        self.db.conn.executemany(
            "INSERT INTO dataset_history_changes (step_id, name, before, after) VALUES (?, ?, ?, ?)",
            [(step_id, c["name"], c["before"], c["after"]) for c in changes])

    def _journal(self, dataset_id: str, step_id: int, rows: list[tuple]) -> None:
        self.db.conn.executemany(
            "INSERT INTO dataset_journal (step_id, dataset_id, name, src, dst) VALUES (?, ?, ?, ?, ?)",
            [(step_id, dataset_id, *r) for r in rows])

    def _coalesce(self, dataset_id: str, kind: str, change: dict, now: float) -> int | None:
        """Reopen the last step when it is an edit of the same item moments ago; its `after` becomes the
        new text (typed back to where it started, close() finds it changes nothing and drops it)."""
        last = self.db.execute(
            "SELECT id, kind, item_count, updated_at FROM dataset_history WHERE dataset_id = ? AND undone = 0 "
            "AND pending IS NULL ORDER BY id DESC LIMIT 1", [dataset_id]).fetchone()
        if not last or last[1] != kind or last[2] != 1 or now - last[3] > COALESCE_SECONDS:
            return None
        prev = self.db.execute("SELECT id, name FROM dataset_history_changes WHERE step_id = ?",
                               [last[0]]).fetchone()
        if prev is None or prev[1] != change["name"]:
            return None
        self.db.execute("UPDATE dataset_history_changes SET after = ? WHERE id = ?", [change["after"], prev[0]])
        self.db.execute("UPDATE dataset_history SET updated_at = ?, pending = 'apply' WHERE id = ?", [now, last[0]])
        return last[0]

    def _delete(self, step_ids: list[int]) -> None:
        for sid in step_ids:
            self.db.execute("DELETE FROM dataset_journal WHERE step_id = ?", [sid])
            self.db.execute("DELETE FROM dataset_history_changes WHERE step_id = ?", [sid])
            self.db.execute("DELETE FROM dataset_history WHERE id = ?", [sid])

    def _prune(self, dataset_id: str) -> None:
        old = [r[0] for r in self.db.execute(
            "SELECT id FROM dataset_history WHERE dataset_id = ? AND pending IS NULL "
            "ORDER BY id DESC LIMIT -1 OFFSET ?",
            [dataset_id, MAX_STEPS])]
        self._delete(old)

    def step(self, step_id: int) -> dict | None:
        return self._step_where("id = ?", [step_id])

    def _step_where(self, where: str, params: list) -> dict | None:
        """The first step matching `where` (which may end with ORDER BY), as the API shows steps."""
        cur = self.db.execute(f"SELECT {STEP_COLUMNS} FROM dataset_history WHERE {where} LIMIT 1", params)
        row = cur.fetchone()
        if row is None:
            return None
        out = dict(zip([d[0] for d in cur.description], row))
        out["undone"] = bool(out["undone"])
        out["pending"] = out["pending"] is not None  # still being written (an auto-tag run in progress)
        out["op"] = out["op"] or "other"
        try:
            out["params"] = json.loads(out["params"]) if out["params"] else {}
        except ValueError:
            out["params"] = {}
        return out

    def changes(self, step_id: int) -> list[dict]:
        return [{"name": n, "before": b, "after": a} for n, b, a in self.db.execute(
            "SELECT name, before, after FROM dataset_history_changes WHERE step_id = ? ORDER BY id", [step_id])]

    def next_undo(self, dataset_id: str) -> dict | None:
        return self._step_where("dataset_id = ? AND undone = 0 AND pending IS NULL ORDER BY id DESC", [dataset_id])

    def next_redo(self, dataset_id: str) -> dict | None:
        return self._step_where("dataset_id = ? AND undone = 1 AND pending IS NULL ORDER BY id ASC", [dataset_id])

    def mark(self, step_id: int, undone: bool) -> None:
        with transaction(self.db):
            self.db.execute("UPDATE dataset_history SET undone = ? WHERE id = ?", [1 if undone else 0, step_id])

    def pointers(self, dataset_id: str) -> dict:
        """{can_undo, can_redo, undo: Step|null, redo: Step|null}: the websocket `history` event."""
        undo, redo = self.next_undo(dataset_id), self.next_redo(dataset_id)
        return {"can_undo": undo is not None, "can_redo": redo is not None, "undo": undo, "redo": redo}

    def state(self, dataset_id: str, limit: int = 50) -> dict:
        cur = self.db.execute("SELECT id FROM dataset_history WHERE dataset_id = ? ORDER BY id DESC LIMIT ?",
                              [dataset_id, limit])
        return {**self.pointers(dataset_id), "steps": [self.step(r[0]) for r in cur.fetchall()]}

    def forget_dataset(self, dataset_id: str) -> None:
        with transaction(self.db):
            self._delete([r[0] for r in self.db.execute("SELECT id FROM dataset_history WHERE dataset_id = ?",
                                                        [dataset_id])])


def record_step(store, dataset_id: str, label: str, changes: Iterable, **kw) -> dict | None:
    """Module-level shortcut for `History(store).record_step(...)`."""
    return History(store).record_step(dataset_id, label, changes, **kw)
