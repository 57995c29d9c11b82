"""Auto-tagging UI in headless Chromium against the real launcher: the settings section (API backend
against a stand-in chat-completions server, WD14 with a tiny ONNX model) and the auto-tag dialog."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.test_shell import assert_no_raw_keys
from tests.tagging.chat_server import ChatServer

CAPTION = "a red circle above green grass"
KEY = "sk-test-abcdef123456wxyz"


# -- helpers -----------------------------------------------------------------------------------


def wait_job(live, job_id: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = live.call("GET", f"/api/jobs/{job_id}")["job"]
        if job["status"] in ("done", "failed", "cancelled", "interrupted"):
            return job
        time.sleep(0.1)
    raise TimeoutError(job_id)


def make_dataset(live, tmp_path: Path, n: int = 3, captioned: int = 1) -> str:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(n):
        Image.new("RGB", (64, 48), (40 * i, 120, 200)).save(src / f"img_{i}.png")
        if i < captioned:
            (src / f"img_{i}.txt").write_text("existing caption", encoding="utf-8")
    ds = live.call("POST", "/api/datasets", {"name": "Tagging test"})["dataset"]
    job = live.call("POST", f"/api/datasets/{ds['id']}/import", {"source": "folder", "path": str(src)})["job"]
    assert wait_job(live, job["id"])["status"] == "done"
    return ds["id"]


def open_settings(page, live, lang: str = "en"):
    page.goto(live.base + "/#/settings")
    page.select_option("[data-testid=lang-select]", lang)
    expect(page.locator("[data-testid=settings-tagging]")).to_be_visible()


def fill_and_leave(page, selector: str, value: str):
    """Type into a field and leave it: the section saves on change."""
    page.fill(selector, value)
    page.press(selector, "Tab")


def configure_api(page, server: ChatServer):
    page.click("[data-testid=tag-backend-openai_api]")
    page.select_option("[data-testid=tag-preset]", "custom")
    fill_and_leave(page, "#tg-tagging_api_base_url", server.base_url)
    fill_and_leave(page, "#tg-tagging_api_model", "stand-in-vlm")
    fill_and_leave(page, "#tg-tagging_api_key", KEY)
    expect(page.locator("[data-testid=setting-tagging_api_key-saved]")).to_contain_text("wxyz")


# -- settings: API backend -------------------------------------------------------------------

def test_api_settings_save_mask_key_and_test_against_standin(page, live):
    with ChatServer(caption=CAPTION) as server:
        open_settings(page, live)
        configure_api(page, server)

        # saved on the server, key masked everywhere on screen
        saved = live.call("GET", "/api/settings")["settings"]
        assert saved["tagging_backend"] == "openai_api"
        assert saved["tagging_api_base_url"] == server.base_url
        assert saved["tagging_api_model"] == "stand-in-vlm"
        assert saved["tagging_api_key"].endswith("wxyz") and KEY not in saved["tagging_api_key"]
        assert page.input_value("#tg-tagging_api_key") == ""
        assert KEY not in page.content()

        # a bad value is refused next to its field
        fill_and_leave(page, "#tg-tagging_api_base_url", "ftp://nowhere")
        expect(page.locator("[data-testid=field-error][data-field=tg-tagging_api_base_url]")).to_contain_text("http")
        fill_and_leave(page, "#tg-tagging_api_base_url", server.base_url)
        expect(page.locator("[data-testid=field-error][data-field=tg-tagging_api_base_url]")).to_have_count(0)

        page.click("[data-testid=tag-test]")
        expect(page.locator("[data-testid=tag-test-caption]")).to_have_text(CAPTION, timeout=20_000)
        expect(page.locator("[data-testid=tag-test-result]")).to_contain_text("stand-in-vlm")
        req = server.requests[-1]
        assert req["body"]["model"] == "stand-in-vlm"
        assert req["headers"]["Authorization"] == f"Bearer {KEY}"
        image = [p for p in req["body"]["messages"][-1]["content"] if p.get("type") == "image_url"][0]
        assert image["image_url"]["url"].startswith("data:image/jpeg;base64,")
        assert_no_raw_keys(page)
        page.locator("[data-testid=tag-test-result]").scroll_into_view_if_needed()
        shot(page, "tagging-settings-api-en")

        # the server's error comes back as a message, not a crash
        server.script.append((401, {"error": {"message": "Incorrect API key provided"}}, {}))
        page.click("[data-testid=tag-test]")
        err = page.locator("[data-testid=tag-test-error]")
        expect(err).to_have_attribute("data-code", "unauthorized", timeout=20_000)
        expect(err).to_contain_text("Incorrect API key provided")

        page.select_option("[data-testid=lang-select]", "zh-CN")
        expect(err).to_contain_text("API 密钥被拒绝")
        expect(page.locator("[data-testid=settings-tagging] h2")).to_have_text("自动打标")
        assert_no_raw_keys(page)
        shot(page, "tagging-settings-api-zh")
    assert not page.errors, page.errors


def test_preset_fills_base_url_and_model(page, live):
    open_settings(page, live)
    page.click("[data-testid=tag-backend-openai_api]")
    page.select_option("[data-testid=tag-preset]", "dashscope")
    page.locator("[data-testid=settings-tagging] h2").scroll_into_view_if_needed()
    shot(page, "tagging-settings-top-en")
    expect(page.locator("#tg-tagging_api_base_url")).to_have_value("https://dashscope.aliyuncs.com/compatible-mode/v1")
    expect(page.locator("#tg-tagging_api_model")).to_have_value("qwen-vl-max")
    saved = live.call("GET", "/api/settings")["settings"]
    assert saved["tagging_api_preset"] == "dashscope"
    assert saved["tagging_api_base_url"] == "https://dashscope.aliyuncs.com/compatible-mode/v1"
    # a preset that needs a key, with none saved: the test says so
    page.click("[data-testid=tag-test]")
    expect(page.locator("[data-testid=tag-test-error]")).to_have_attribute("data-code", "api_key_missing",
                                                                           timeout=20_000)


# -- settings: WD14 ----------------------------------------------------------------------------

def test_wd14_local_folder_test_runs_onnx_model(page, live, tmp_path):
    pytest.importorskip("onnxruntime")
    from tests.tagging.tiny_wd14 import build_model_dir

    folder = build_model_dir(tmp_path / "tiny-wd14")
    open_settings(page, live)
    page.click("[data-testid=tag-backend-wd14]")
    expect(page.locator("#tg-tagging_wd14_repo")).to_be_visible()
    fill_and_leave(page, "#tg-tagging_wd14_model_dir", str(folder))
    fill_and_leave(page, "#tg-tagging_wd14_general_threshold", "0.5")
    page.click("[data-testid=tag-test]")
    caption = page.locator("[data-testid=tag-test-caption]")
    expect(caption).to_be_visible(timeout=30_000)
    tags = [t.strip() for t in caption.inner_text().split(",")]
    assert "solo" in tags and "long hair" in tags  # underscores to spaces is on by default
    assert "general" not in tags and "sensitive" not in tags  # rating tags are left out
    expect(page.locator("[data-testid=tag-test-result]")).to_contain_text("CPU")
    saved = live.call("GET", "/api/settings")["settings"]
    assert saved["tagging_wd14_model_dir"] == str(folder)
    assert saved["tagging_wd14_general_threshold"] == 0.5
    assert_no_raw_keys(page)
    page.locator("[data-testid=tag-test-result]").scroll_into_view_if_needed()
    shot(page, "tagging-settings-wd14-en")
    page.select_option("[data-testid=lang-select]", "zh-CN")
    page.select_option("#set-theme", "dark")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.locator("[data-testid=tag-test-result]").scroll_into_view_if_needed()
    assert_no_raw_keys(page)
    shot(page, "tagging-settings-wd14-zh-dark")

    # a folder without the model files: a clear error
    fill_and_leave(page, "#tg-tagging_wd14_model_dir", str(tmp_path))
    page.click("[data-testid=tag-test]")
    expect(page.locator("[data-testid=tag-test-error]")).to_be_visible(timeout=20_000)
    assert not page.errors, page.errors


# -- the auto-tag dialog -------------------------------------------------------------------------

def goto_dataset(page, live, dataset_id: str):
    page.goto(f"{live.base}/#/datasets/{dataset_id}")
    page.reload()  # a hash change alone keeps the settings (theme) the page loaded with
    page.select_option("[data-testid=lang-select]", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("[data-testid=autotag-open]")).to_be_visible()


def open_dialog(page, live, dataset_id: str):
    goto_dataset(page, live, dataset_id)
    page.click("[data-testid=autotag-open]")
    dialog = page.locator("[data-testid=tagging-dialog]")
    expect(dialog).to_be_visible()
    return dialog


def test_dialog_tags_only_empty_items_with_trigger_and_summary(page, live, tmp_path):
    with ChatServer(caption=CAPTION) as server:
        live.call("PATCH", "/api/settings", {"tagging_backend": "openai_api", "tagging_api_preset": "custom",
                                              "tagging_api_base_url": server.base_url, "tagging_api_model": "m",
                                              "tagging_api_parallel": 1})
        ds = make_dataset(live, tmp_path, n=3, captioned=1)
        dialog = open_dialog(page, live, ds)
        page.click("[data-testid=tag-dlg-backend-openai_api]")
        page.check("[data-testid=tag-mode-only_empty]")
        page.fill("[data-testid=tag-trigger]", "ohwx")
        page.fill("[data-testid=tag-blacklist]", "grass")
        shot(page, "tagging-dialog-form-en")
        page.click("[data-testid=tag-start]")
        expect(page.locator("[data-testid=tag-summary]")).to_be_visible(timeout=30_000)
        expect(page.locator("[data-testid=tag-sum-changed]")).to_have_text("2")
        expect(page.locator("[data-testid=tag-sum-skipped]")).to_have_text("1")
        expect(page.locator("[data-testid=tag-undo-note]")).to_be_visible()
        expect(page.locator("[data-testid=tag-log] .lrow")).to_have_count(2)
        assert_no_raw_keys(page)
        page.wait_for_timeout(300)  # the bar's width transition
        shot(page, "tagging-dialog-summary-en")
        media = live.data_dir / "datasets" / ds / "media"
        assert (media / "img_0.txt").read_text(encoding="utf-8") == "existing caption"
        written = (media / "img_1.txt").read_text(encoding="utf-8")
        assert written.startswith("ohwx") and "red circle" in written and "grass" not in written
        assert "ohwx" in server.requests[-1]["body"]["messages"][-1]["content"][0]["text"]
        page.click("[data-testid=tag-close]")
        expect(dialog).to_have_count(0)
    assert not page.errors, page.errors


def test_a_late_dataset_answer_does_not_replace_the_typed_trigger(page, live, tmp_path):
    """The dialog fills the trigger field from the dataset when its answer arrives; on a busy machine
    that is after the user typed one. Held here on purpose: what was typed must stay."""
    ds = make_dataset(live, tmp_path, n=2, captioned=0)
    live.call("PATCH", f"/api/datasets/{ds}", {"trigger_word": "dsword"})
    goto_dataset(page, live, ds)
    held = []

    def hold_first(route):
        if route.request.method == "GET" and not held:
            held.append((route, route.fetch()))  # answered by the server now, delivered later
        else:
            route.continue_()

    page.route(re.compile(rf".*/api/datasets/{ds}$"), hold_first)
    page.click("[data-testid=autotag-open]")
    dialog = page.locator("[data-testid=tagging-dialog]")
    expect(dialog).to_be_visible()
    deadline = time.monotonic() + 15
    while not held:
        assert time.monotonic() < deadline, "the dialog never asked for its dataset"
        page.wait_for_timeout(20)  # lets Playwright dispatch the route handler
    page.fill("[data-testid=tag-trigger]", "ohwx")
    route, answer = held[0]
    assert answer.json()["dataset"]["trigger_word"] == "dsword"
    route.fulfill(response=answer)
    # The item count beside "all items" comes from that answer: it has been applied.
    expect(dialog.get_by_text("(2)")).to_be_visible()
    expect(page.locator("[data-testid=tag-trigger]")).to_have_value("ohwx")
    # Opened again without typing, the field shows the dataset's trigger word.
    page.unroute(re.compile(rf".*/api/datasets/{ds}$"))
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    page.click("[data-testid=autotag-open]")
    expect(page.locator("[data-testid=tag-trigger]")).to_have_value("dsword")
    assert not page.errors, page.errors


def test_dialog_lists_item_errors_and_cancel(page, live, tmp_path):
    with ChatServer(caption=CAPTION) as server:
        server.script.append((400, {"error": {"message": "image too small for this model"}}, {}))
        live.call("PATCH", "/api/settings", {"tagging_backend": "openai_api", "tagging_api_preset": "custom",
                                              "tagging_api_base_url": server.base_url, "tagging_api_model": "m",
                                              "tagging_api_parallel": 1})
        live.call("PATCH", "/api/settings", {"theme": "dark"})
        ds = make_dataset(live, tmp_path, n=3, captioned=0)
        open_dialog(page, live, ds)
        page.select_option("[data-testid=lang-select]", "zh-CN")
        page.click("[data-testid=tag-dlg-backend-openai_api]")
        page.check("[data-testid=tag-mode-overwrite]")
        page.click("[data-testid=tag-start]")
        expect(page.locator("[data-testid=tag-summary]")).to_be_visible(timeout=30_000)
        expect(page.locator("[data-testid=tag-sum-failed]")).to_have_text("1")
        expect(page.locator("[data-testid=tag-sum-errors]")).to_contain_text("image too small for this model")
        expect(page.locator("[data-testid=tag-log] .lrow[data-ok=false]")).to_have_count(1)
        # some items failed: "done with errors", not a clean green "done"
        expect(page.locator("[data-testid=tag-sum-outcome]")).to_contain_text("完成（有错误）")
        expect(page.locator("[data-testid=job-status]")).to_have_text("完成（有错误）")
        expect(page.locator("[data-testid=job-progress] .fill")).to_have_class(re.compile(r"\bpartial\b"))
        assert_no_raw_keys(page)
        page.wait_for_timeout(300)
        shot(page, "tagging-dialog-errors-zh")

        # a slow run can be cancelled from the progress bar
        server.delay = 1.0
        page.click("[data-testid=tag-again]")
        page.check("[data-testid=tag-mode-overwrite]")
        page.click("[data-testid=tag-start]")
        expect(page.locator("[data-testid=job-cancel]")).to_be_visible(timeout=10_000)
        shot(page, "tagging-dialog-running-zh")
        page.click("[data-testid=job-cancel]")
        expect(page.locator("[data-testid=job-progress]")).to_have_attribute("data-status", "cancelled",
                                                                             timeout=20_000)
    assert not page.errors, page.errors


def test_a_run_where_every_item_fails_shows_as_failed_with_its_errors(page, live, tmp_path):
    with ChatServer(caption=CAPTION) as server:
        for _ in range(2):
            server.script.append((400, {"error": {"message": "image too small for this model"}}, {}))
        live.call("PATCH", "/api/settings", {"tagging_backend": "openai_api", "tagging_api_preset": "custom",
                                              "tagging_api_base_url": server.base_url, "tagging_api_model": "m",
                                              "tagging_api_parallel": 1})
        ds = make_dataset(live, tmp_path, n=2, captioned=0)
        open_dialog(page, live, ds)
        page.click("[data-testid=tag-dlg-backend-openai_api]")
        page.click("[data-testid=tag-start]")
        progress = page.locator("[data-testid=job-progress]")
        expect(progress).to_have_attribute("data-status", "failed", timeout=30_000)
        expect(page.locator("[data-testid=job-status]")).to_have_text("Failed")
        expect(progress.locator(".fill")).to_have_class(re.compile(r"\bfailed\b"))
        expect(page.locator("[data-testid=tag-sum-outcome]")).to_contain_text("every item failed")
        expect(page.locator("[data-testid=tag-sum-failed]")).to_have_text("2")
        expect(page.locator("[data-testid=tag-sum-errors] .erow")).to_have_count(2)
        assert_no_raw_keys(page)
        shot(page, "tagging-dialog-all-failed-en")
    assert not page.errors, page.errors


def test_dialog_wd14_overwrites_with_tags(page, live, tmp_path):
    pytest.importorskip("onnxruntime")
    from tests.tagging.tiny_wd14 import build_model_dir

    folder = build_model_dir(tmp_path / "tiny-wd14")
    live.call("PATCH", "/api/settings", {"tagging_backend": "wd14", "tagging_wd14_model_dir": str(folder)})
    ds = make_dataset(live, tmp_path, n=2, captioned=1)
    open_dialog(page, live, ds)
    expect(page.locator("[data-testid=tag-dlg-backend-wd14]")).to_have_attribute("aria-checked", "true")
    page.check("[data-testid=tag-mode-overwrite]")
    page.fill("[data-testid=tag-dlg-tagging_wd14_general_threshold]", "0.5")
    page.fill("[data-testid=tag-blacklist]", "solo")
    page.click("[data-testid=tag-start]")
    expect(page.locator("[data-testid=tag-sum-changed]")).to_have_text("2", timeout=30_000)
    media = live.data_dir / "datasets" / ds / "media"
    tags = [t.strip() for t in (media / "img_0.txt").read_text(encoding="utf-8").split(",")]
    assert "long hair" in tags and "solo" not in tags and "existing caption" not in tags
    # the per-run threshold did not change the saved setting
    assert live.call("GET", "/api/settings")["settings"]["tagging_wd14_general_threshold"] == 0.35
    assert not page.errors, page.errors


def test_wd14_download_from_mirror_with_progress(page, live, tmp_path):
    pytest.importorskip("onnxruntime")
    from tests.tagging.file_server import FileServer
    from tests.tagging.tiny_wd14 import build_model_dir

    build_model_dir(tmp_path / "hf" / "tester" / "tiny-tagger")
    with FileServer(tmp_path / "hf") as server:
        open_settings(page, live)
        page.click("[data-testid=tag-backend-wd14]")
        fill_and_leave(page, "#tg-tagging_hf_endpoint", server.endpoint)
        fill_and_leave(page, "#tg-tagging_wd14_repo", "tester/tiny-tagger")
        expect(page.locator("[data-testid=tag-repo-downloaded]")).to_have_count(0)
        page.click("[data-testid=tag-download]")
        progress = page.locator("[data-testid=tag-download-progress]")
        expect(progress).to_have_attribute("data-status", "done", timeout=20_000)
        expect(progress).to_contain_text(re.compile(r"\d+ B / \d+ B"))  # bytes, formatted
        expect(page.locator("[data-testid=tag-repo-downloaded]")).to_be_visible()
        assert (live.data_dir / "models" / "taggers" / "tester" / "tiny-tagger" / "model.onnx").is_file()
        # a repo that does not exist there: the error is shown under the field's download
        fill_and_leave(page, "#tg-tagging_wd14_repo", "tester/missing")
        page.click("[data-testid=tag-download]")
        expect(progress).to_have_attribute("data-status", "failed", timeout=20_000)
        assert_no_raw_keys(page)
        shot(page, "tagging-settings-download-en")
    assert not page.errors, page.errors
