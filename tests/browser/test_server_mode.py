"""Server mode in a real browser: the login page (wrong secret, then the right one) and a model picked
with the server's folder browser; and the same folder browser behind "Browse" in plain headless mode."""

from __future__ import annotations

import sys

import pytest
from playwright.sync_api import expect

from tests.live import LiveApp
from tests.servermode.conftest import SECRET


def pick_model(pg, root):
    """Browse beside the DiT path -> the folder browser -> models/ -> the file -> Choose."""
    pg.click("[data-testid=model-browse-dit]")
    browser_dialog = pg.locator("[data-testid=file-browser]")
    expect(browser_dialog.locator("[data-testid=fb-path]")).to_have_text(str(root))
    browser_dialog.locator("[data-testid=fb-entry][data-name=models]").click()
    expect(browser_dialog.locator("[data-testid=fb-path]")).to_have_text(str(root / "models"))
    # the model filter leaves the notes out
    expect(browser_dialog.locator("[data-testid=fb-entry][data-name='notes.txt']")).to_have_count(0)
    browser_dialog.locator("[data-testid=fb-entry][data-name='dit.safetensors']").click()
    pg.click("[data-testid=fb-choose]")
    expect(browser_dialog).to_have_count(0)
    expect(pg.locator("[data-testid=model-dit]")).to_have_value(str(root / "models" / "dit.safetensors"))


@pytest.fixture
def model_root(tmp_path):
    root = tmp_path / "models-root"
    (root / "models").mkdir(parents=True)
    (root / "models" / "dit.safetensors").write_bytes(b"\0" * 64)
    (root / "models" / "notes.txt").write_text("n")
    (root / "models" / "old").mkdir()
    return root


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="127.0.0.2 is loopback on Linux")
def test_login_page_then_folder_browser_pick(browser, tmp_path, model_root):
    app = LiveApp(tmp_path / "data", env={"LORA_WORKBENCH_GPU_PROVIDER": "none", "LORA_WORKBENCH_TOKEN": SECRET},
                  extra_args=["--listen", "127.0.0.2"]).wait_ready()
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    ctx.add_init_script("localStorage.setItem('lw_locale', 'en')")
    try:
        app.call("PATCH", "/api/settings", {"first_run_done": True, "browse_roots": [str(model_root)]})
        pg = ctx.new_page()
        errors = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(app.base + "/#/tasks/new")
        login = pg.locator("[data-testid=login-page]")
        expect(login).to_contain_text("--token")  # the server-mode help
        pg.fill("[data-testid=login-secret]", "not-the-secret")
        pg.click("[data-testid=login-submit]")
        expect(pg.locator("[data-testid=login-error]")).to_have_attribute("data-code", "unauthorized")
        pg.fill("[data-testid=login-secret]", SECRET)
        pg.click("[data-testid=login-submit]")
        expect(pg.locator("[data-testid=model-dit]")).to_be_visible()
        cookie = next(c for c in ctx.cookies() if c["name"] == "lw_token")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert "token=" not in pg.url
        pick_model(pg, model_root)
        assert not errors, errors
    finally:
        ctx.close()
        app.stop()


def test_browse_in_a_plain_browser_uses_the_folder_browser(page, live, model_root):
    """Headless (browser) mode has no native dialog: Browse opens the server's folder browser."""
    live.call("PATCH", "/api/settings", {"browse_roots": [str(model_root)]})
    page.goto(live.base + "/#/tasks/new")
    expect(page.locator("[data-testid=model-dit]")).to_be_visible()
    pick_model(page, model_root)
    # a model from "this computer": uploaded in resumable chunks into the models folder, then chosen
    blob = bytes(range(256)) * 4096 + b"tail"
    local = model_root.parent / "from-laptop.safetensors"
    local.write_bytes(blob)
    page.click("[data-testid=model-browse-dit]")
    page.set_input_files("[data-testid=fb-upload]", str(local))
    dest = live.data_dir / "models" / "from-laptop.safetensors"
    expect(page.locator("[data-testid=model-dit]")).to_have_value(str(dest))
    assert dest.read_bytes() == blob
    # the dataset import's "folder" path is picked the same way
    ds = live.call("POST", "/api/datasets", {"type": "image", "name": "pick"})["dataset"]
    page.goto(live.base + f"/#/datasets/{ds['id']}")
    page.click("[data-testid=import-open]")
    page.click("[data-testid=import-browse]")
    fb = page.locator("[data-testid=file-browser]")
    fb.locator("[data-testid=fb-entry][data-name=models]").click()
    expect(fb.locator("[data-testid=fb-entry]")).to_have_count(1)  # folders only: sub-folders, no files
    page.click("[data-testid=fb-choose]")
    expect(page.locator("[data-testid=import-path]")).to_have_value(str(model_root / "models"))
    assert not page.errors, page.errors


def test_one_big_dataset_file_goes_up_in_resumable_chunks(page, live, tmp_path):
    """A dataset zip over 64 MB is sent with the resumable protocol (several PUT chunks), then imported."""
    import io
    import os
    import zipfile

    from PIL import Image

    ds = live.call("POST", "/api/datasets", {"type": "image", "name": "big"})["dataset"]
    img = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(img, "PNG")
    archive = tmp_path / "big-set.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("red.png", img.getvalue())
        zf.writestr("red.txt", "a red square")
        zf.writestr("padding.bin", os.urandom(66 * (1 << 20)))  # no media: skipped by the import
    puts = []
    page.on("request", lambda r: r.method == "PUT" and "/api/uploads/" in r.url and puts.append(r.headers.get("content-range")))
    page.goto(live.base + f"/#/datasets/{ds['id']}")
    page.set_input_files("[data-testid=file-input]", str(archive))
    expect(page.locator("[data-testid=item-card]")).to_have_count(1, timeout=60_000)
    assert len(puts) == 5 and puts[0].startswith("bytes 0-16777215/"), puts
    assert (live.data_dir / "datasets" / ds["id"] / "media" / "red.txt").read_text() == "a red square"
    assert not list((live.data_dir / "cache" / "resumable").iterdir())
    assert not page.errors, page.errors
