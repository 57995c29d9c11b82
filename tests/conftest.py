"""Shared fixtures: a real app over a real sqlite file in a tmp dir, and a client that sends the secret."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Publishing an event server/events.py does not declare raises, in this process and in apps it starts.
os.environ["LORA_WORKBENCH_STRICT_EVENTS"] = "1"

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from server import create_app  # noqa: E402
from server.security import TOKEN_HEADER  # noqa: E402

TOKEN = "test-secret-token"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


TESTS = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """A run of the whole suite must collect every test file: a folder pytest skips by name (its default
    norecursedirs has `build`, `dist`, `venv`...) once dropped tests/build from every full run while the
    summary still said "passed". Runs first, before -k/-m deselect anything."""
    whole = {ROOT, TESTS}
    if not any(Path(str(arg).split("::")[0]).resolve() in whole for arg in config.args):
        return
    collected = {Path(str(item.path)).resolve() for item in items}
    missing = sorted(str(p.relative_to(ROOT)) for p in TESTS.rglob("test_*.py")
                     if "__pycache__" not in p.parts and p.resolve() not in collected)
    if missing:
        raise pytest.UsageError("These test files were not collected (check norecursedirs in pyproject.toml): "
                                + ", ".join(missing))


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def app(data_dir):
    app = create_app(data_dir=data_dir, token=TOKEN, testing=True, gpu_provider="none")
    yield app
    app.extensions["workbench"].shutdown()


@pytest.fixture
def svc(app):
    return app.extensions["workbench"]


@pytest.fixture
def client(app):
    """A test client that does NOT send the secret (for auth tests)."""
    return app.test_client()


class Api:
    """A test client that sends the launch secret and returns (status, json)."""

    def __init__(self, client):
        self.client = client

    def _call(self, method, path, **kw):
        headers = kw.pop("headers", {}) or {}
        headers.setdefault(TOKEN_HEADER, TOKEN)
        resp = getattr(self.client, method)(path, headers=headers, **kw)
        return resp

    def get(self, path, **kw):
        return self._call("get", path, **kw)

    def post(self, path, **kw):
        return self._call("post", path, **kw)

    def patch(self, path, **kw):
        return self._call("patch", path, **kw)

    def put(self, path, **kw):
        return self._call("put", path, **kw)

    def delete(self, path, **kw):
        return self._call("delete", path, **kw)


@pytest.fixture
def api(client):
    return Api(client)
