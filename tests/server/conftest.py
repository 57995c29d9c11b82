"""The app on a real socket (werkzeug's threaded server, as the launcher runs it)."""

from __future__ import annotations

import pytest

from server.serve import ServerThread


@pytest.fixture
def server(app):
    srv = ServerThread(app)
    srv.start()
    yield srv
    srv.shutdown()
