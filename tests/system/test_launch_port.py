"""The local address is kept from launch to launch: the web view's cache, compiled scripts and local storage
(the UI's own preferences: the nav's width, the loss chart's smoothing) belong to the origin, port included.
A port taken by another program is never shared: the app moves to a free one and remembers that."""

from __future__ import annotations

import pytest

from server.serve import ServerThread, listen
from server.store import Store
from tests.live import LiveApp


def launch(data_dir, *args) -> LiveApp:
    return LiveApp(data_dir, env={"LORA_WORKBENCH_GPU_PROVIDER": "none"}, extra_args=args).wait_ready(60)


def stored_port(data_dir) -> int:
    store = Store(data_dir / "workbench.db")
    try:
        return store.get_setting("ui_port")
    finally:
        store.close()


def first_launch(tmp_path):
    """A data folder whose app has run once, and the port it had."""
    data = tmp_path / "data"
    app = launch(data)
    assert app.stop() == 0
    return data, app.port


def relaunch(data) -> tuple[int, str]:
    """The port of the next launch, and its health's status (it answers there)."""
    app = launch(data)
    try:
        return app.port, app.call("GET", "/api/health")["status"]
    finally:
        app.stop()


def test_a_second_launch_takes_the_first_ones_port(tmp_path):
    data, port = first_launch(tmp_path)
    assert stored_port(data) == port
    assert relaunch(data) == (port, "ok")


def test_a_port_held_by_another_program_is_left_to_it(tmp_path):
    data, port = first_launch(tmp_path)
    other = listen("127.0.0.1", port)   # another program took the port meanwhile
    try:
        moved, status = relaunch(data)
    finally:
        other.close()
    assert moved != port and status == "ok"
    assert stored_port(data) == moved


def test_a_port_given_on_the_command_line_is_not_remembered(tmp_path):
    data = tmp_path / "data"
    probe = ServerThread(None)   # a port free right now
    port = probe.port
    probe.close()
    app = launch(data, "--port", str(port))
    try:
        assert app.port == port
    finally:
        app.stop()
    assert stored_port(data) is None


def test_a_taken_port_is_an_error_not_a_second_listener():
    holder = ServerThread(None)
    try:
        with pytest.raises(OSError):
            ServerThread(None, port=holder.port)
        # preferred but taken: quietly another one
        other = ServerThread(None, prefer_port=holder.port)
        assert other.port != holder.port
        other.close()
    finally:
        holder.close()
