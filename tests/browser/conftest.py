"""Browser tests: the real app started by launcher.py --headless, driven in headless Chromium.

Playwright's Python package drives Debian's /usr/bin/chromium (never a downloaded browser).
Pages are opened through the secret URL exactly as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from playwright.sync_api import expect

from tests.live import LiveApp

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(os.environ.get("LW_SCREENSHOTS", Path(tempfile.gettempdir()) / "lw-screenshots"))


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; the test command installs Debian's chromium package.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def live(tmp_path):
    env = {"LORA_WORKBENCH_GPU_PROVIDER": "none"}
    app = LiveApp(tmp_path / "data", env=env).wait_ready()
    yield app
    app.stop()


def skip_first_run(live) -> None:
    """Mark the first-run wizard as done so it does not cover the pages other tests drive."""
    live.call("PATCH", "/api/settings", {"first_run_done": True})


def new_page(browser, live, language: str | None = None):
    """A fresh browser profile on the app's secret URL; page errors are collected in `pg.errors`.

    With `language`, the page shows that language from its first paint, as for a returning user:
    saved on the server and mirrored in localStorage. Tests start from a language they chose instead of
    switching at once while the page is still loading its settings."""
    if language:
        live.call("PATCH", "/api/settings", {"language": language})
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    if language:
        ctx.add_init_script(f"localStorage.setItem('lw_locale', {json.dumps(language)})")
    pg = ctx.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.goto(live.url)
    if language:
        expect(pg.locator("html")).to_have_attribute("lang", language)
    return pg


@pytest.fixture
def page(browser, live, request):
    """A page in a known language: zh-CN (the app's default) unless the test is marked
    `@pytest.mark.language("en")`."""
    marker = request.node.get_closest_marker("language")
    skip_first_run(live)
    pg = new_page(browser, live, language=marker.args[0] if marker else "zh-CN")
    yield pg
    pg.context.close()


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
