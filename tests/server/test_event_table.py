"""Websocket events are declared in one table (server/events.py EVENTS): publishers, the UI's handlers
and GET /api/meta all follow it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server import events
from server.events import EventBus, UndeclaredEvent

ROOT = Path(__file__).resolve().parents[2]

SUBSCRIBE = re.compile(r"""subscribe\(\s*['"`]([a-z_]+)(:?)""")
IF_TYPE = re.compile(r"""\bev\.type\s*===?\s*['"]([a-z_]+)['"]""")
SWITCH = re.compile(r"switch\s*\(\s*ev\.type\s*\)\s*\{")
CASE = re.compile(r"""\bcase\s+['"]([a-z_]+)['"]\s*:""")


def _switch_cases(text: str) -> list[str]:
    found = []
    for m in SWITCH.finditer(text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        found += CASE.findall(text[m.end():i])
    return found


def ui_handlers(src: Path) -> dict[str, tuple[set[str], list[str]]]:
    """{file: (topic families it listens to, event types it handles)} for every UI file that handles events."""
    out = {}
    for path in sorted([*src.rglob("*.svelte"), *src.rglob("*.js")]):
        text = path.read_text(encoding="utf-8")
        types = IF_TYPE.findall(text) + _switch_cases(text)
        if not types:
            continue
        topics = {name + colon for name, colon in SUBSCRIBE.findall(text)}
        if "followJob(" in text or "subscribe(`job:" in text:
            topics.add("job:")
        out[str(path.relative_to(src))] = (topics, types)
    return out


def undeclared(handlers: dict) -> list[str]:
    declared = events.public()
    return [f"{file}: '{t}' on {sorted(topics) or 'no topic'}" for file, (topics, types) in handlers.items()
            for t in types if not any(t in declared.get(topic, {}) for topic in topics)]


def test_every_event_the_ui_handles_is_declared_for_a_topic_it_listens_to():
    handlers = ui_handlers(ROOT / "ui" / "src")
    assert {"lib/taskPage.svelte.js", "lib/datasetPage.svelte.js", "lib/jobs.svelte.js"} <= set(handlers)
    assert undeclared(handlers) == []


def test_the_check_finds_a_handler_for_an_undeclared_event(tmp_path):
    (tmp_path / "Page.svelte").write_text(
        "subscribe(`task:${id}`, (ev) => { switch (ev.type) { case 'progress': if (x) { y(); } break; "
        "case 'stage_done': z(); } }); if (ev.type === 'queue') q();", encoding="utf-8")
    assert undeclared(ui_handlers(tmp_path)) == ["Page.svelte: 'queue' on ['task:']",
                                                 "Page.svelte: 'stage_done' on ['task:']"]


def test_every_declared_event_has_a_publisher():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "server").rglob("*.py")
                       if p.name != "events.py")
    assert [e.type for e in events.EVENTS if f'"{e.type}"' not in source] == []


def test_tests_publish_strictly_and_a_running_app_only_logs(caplog):
    bus = EventBus()
    assert bus.strict  # tests/conftest.py turns it on for every test and every app a test starts
    sub = bus.subscription()
    sub.subscribe("task:1")
    with pytest.raises(UndeclaredEvent, match="not declared"):
        bus.publish("task:1", "stage_done", {})
    with pytest.raises(UndeclaredEvent, match=r"lacks \['skipped'\]"):
        bus.publish("task:1", "stage", {"stage": "train"})
    bus.publish("task:1", "stage", {"stage": "train", "skipped": False, "pid": 7})
    assert sub.get(0)["data"]["pid"] == 7 and sub.get(0) is None
    lenient = EventBus(strict=False)
    sub = lenient.subscription()
    sub.subscribe("task:1")
    lenient.publish("task:1", "stage_done", {})
    assert sub.get(0)["type"] == "stage_done" and "undeclared" in caplog.text


def test_the_ui_gets_the_table(api):
    served = api.get("/api/meta").get_json()["events"]
    assert served == events.public() and served["task:"]["loss"] == ["points"]
