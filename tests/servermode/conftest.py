"""An app in server mode (launcher.py --listen): an allowed host, a long secret, the login rate limit."""

from __future__ import annotations

import pytest

from server import create_app

SECRET = "s" * 20 + "-server-mode-secret"  # 39 characters: long enough for server mode
ALLOWED = "gpu.example.org"


@pytest.fixture
def server_app(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    app = create_app(data_dir=data, token=SECRET, testing=True, gpu_provider="none", server_mode=True,
                     allowed_hosts=[ALLOWED, "127.0.0.2"])
    yield app
    app.extensions["workbench"].shutdown()


@pytest.fixture
def remote(server_app):
    """A browser on another machine reaching the app by its allowed name."""
    return server_app.test_client()


def open_as(client, method, path, *, host=ALLOWED, addr="203.0.113.5", **kw):
    return client.open(path, method=method, base_url=f"http://{host}", environ_base={"REMOTE_ADDR": addr}, **kw)
