"""Settings › Trainer environment on a PC without an NVIDIA GPU, at the minimum window (1100x700), in Chinese
(issue 13, items 8, 6 and 3): Set up is enabled and the PyTorch build it installs is stated with what it means;
every disabled button says why (tooltip and accessible description, both a visible line); no English line is
shown, neither the environment's problems nor a running setup job's progress.

The setup job runs for real: git is hidden (LORA_WORKBENCH_GIT=none), so it downloads musubi-tuner as a zip
archive from a local HTTP server that holds the download open until the test has looked at the screen.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_page, shot
from tests.browser.screen_text import assert_no_english
from tests.live import LiveApp, wait_for
from tests.local_http import LocalHTTPServer

ENV = "[data-testid=trainer-env]"


class HeldArchive(LocalHTTPServer):
    """Answers every GET with the start of a 1 MB zip and holds the rest back until `release` is set."""

    def __init__(self):
        self.release = threading.Event()
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.hits += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(1 << 20))
                self.end_headers()
                try:
                    self.wfile.write(b"\0" * 1024)
                    self.wfile.flush()
                    outer.release.wait(60)
                    self.wfile.write(b"\0" * ((1 << 20) - 1024))
                except OSError:
                    pass

        super().__init__(Handler)
        self.start()


@pytest.fixture
def no_gpu_app(tmp_path):
    server = HeldArchive()
    app = LiveApp(tmp_path / "data", env={"LORA_WORKBENCH_GPU_PROVIDER": "none", "LORA_WORKBENCH_NVIDIA_DRIVER": "none",
                                          "LORA_WORKBENCH_GIT": "none"}).wait_ready()
    app.call("PATCH", "/api/settings", {"first_run_done": True, "musubi_dir": str(tmp_path / "app" / "musubi-tuner"),
                                        "musubi_archive_url": server.root + "/archive/{commit}.zip"})
    yield app, server
    server.release.set()
    app.stop()
    server.close()


def disabled_buttons_say_why(env) -> int:
    """Every disabled button has a tooltip, and an accessible description that is a visible line with that text."""
    buttons = env.locator("button:disabled")
    for i in range(buttons.count()):
        b = buttons.nth(i)
        title = b.get_attribute("title")
        assert title, b.evaluate("b => b.outerHTML")
        described = b.get_attribute("aria-describedby")
        if described:
            expect(env.locator(f"#{described}")).to_be_visible()
            expect(env.locator(f"#{described}")).to_contain_text(title)
    return buttons.count()


def test_trainer_setup_without_a_gpu(browser, no_gpu_app):
    app, server = no_gpu_app
    page = new_page(browser, app, language="zh-CN")
    page.set_viewport_size({"width": 1100, "height": 700})
    page.goto(app.base + "/#/settings?section=trainer")
    env = page.locator(ENV)
    expect(env.locator("[data-testid=rt-problem][data-code=no_gpu]")).to_be_visible()
    # the check found a Python to build with: Set up is enabled; Update / Repair say why they are not
    setup = env.locator("[data-testid=rt-setup]")
    expect(setup).to_be_enabled(timeout=30000)
    for action in ("update", "repair"):
        button = env.locator(f"[data-testid=rt-{action}]")
        expect(button).to_be_disabled()
        expect(button).to_have_attribute("title", "更新、修复：尚未安装 musubi-tuner，请先点击“一键安装”。")
    assert disabled_buttons_say_why(env) == 2
    box = env.locator("[data-testid=rt-repair]").bounding_box()
    assert box["x"] + box["width"] <= 1100, box
    # which PyTorch it installs, and what that means on this PC
    build = env.locator("[data-testid=rt-build]")
    expect(build).to_have_attribute("data-means", "later_gpu")
    expect(build).to_contain_text("CUDA 12.8 版（cu128")
    expect(build).to_contain_text("没有找到 NVIDIA 显卡")
    expect(build).to_contain_text("570")
    expect(env.locator("[data-testid=setting-musubi_cuda_extra] option[value=auto]")).to_have_text("自动（cu128）")
    env.locator("[data-testid=setting-musubi_cuda_extra]").select_option("cpu")
    expect(build).to_have_attribute("data-means", "cpu_only")
    expect(build).to_contain_text("仅 CPU 版")
    expect(build).to_contain_text("无法用它训练")
    env.locator("[data-testid=setting-musubi_cuda_extra]").select_option("auto")
    expect(build).to_have_attribute("data-means", "later_gpu")
    # the problems' lines are Chinese too (codes + details, not the server's English)
    expect(env.locator("[data-testid=rt-problem][data-code=musubi_missing] [data-testid=rt-problem-detail]")
           ).to_contain_text("没有找到 musubi-tuner")
    assert_no_english(page, ENV)
    build.scroll_into_view_if_needed()
    shot(page, "trainer-no-gpu-1100")

    # Set up runs: its progress line is translated while it runs, and the buttons say why they wait
    setup.click()
    expect(page.locator("[data-testid=confirm-message]")).to_contain_text("cu128")
    page.click("[data-testid=confirm-ok]")
    job = env.locator("[data-testid=rt-job]")
    message = job.locator("[data-testid=job-message]")
    expect(message).to_have_attribute("data-code", "rt_download", timeout=30000)
    expect(message).to_have_text("正在下载 musubi-tuner")
    expect(job.locator("[data-testid=job-progress]")).to_contain_text("安装 musubi-tuner")
    wait_for(lambda: server.hits >= 1)
    expect(setup).to_be_disabled()
    expect(setup).to_have_attribute("title", "一键安装、更新、修复：安装任务正在运行，请等它完成。")
    assert disabled_buttons_say_why(env) >= 3
    assert_no_english(page, ENV)
    message.scroll_into_view_if_needed()
    shot(page, "trainer-no-gpu-running")
    job.locator("[data-testid=job-cancel]").click()
    server.release.set()
    expect(job.locator("[data-testid=job-status]")).to_have_text("已取消", timeout=30000)
    expect(setup).to_be_enabled(timeout=30000)
    assert not page.errors, page.errors
