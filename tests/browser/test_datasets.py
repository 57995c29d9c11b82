"""Dataset pages in headless Chromium: list, upload, caption editing, tag editor, undo, trash.

Every check that matters is made on disk (the caption .txt files musubi-tuner reads), not only on screen.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.live import wait_for
from tests.browser.screen_text import assert_no_english
from tests.browser.test_shell import assert_no_raw_keys

COLORS = ["red", "green", "blue", "orange", "purple", "teal"]


def make_images(folder: Path, n: int, captions: dict[str, str] | None = None) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"img_{i:02d}.png"
        Image.new("RGB", (96 + 8 * i, 72), COLORS[i % len(COLORS)]).save(p)
        paths.append(str(p))
    for stem, text in (captions or {}).items():
        (folder / f"{stem}.txt").write_text(text, encoding="utf-8")
        paths.append(str(folder / f"{stem}.txt"))
    return paths


def media_dir(live, ds_id: str) -> Path:
    return Path(live.data_dir) / "datasets" / ds_id / "media"


def caption_on_disk(live, ds_id, stem):
    p = media_dir(live, ds_id) / f"{stem}.txt"
    return p.read_text(encoding="utf-8") if p.exists() else None


def english(page):
    page.select_option("[data-testid=lang-select]", "en")


def create_dataset(page, name: str | None = None) -> str:
    page.goto(page.url.split("#")[0] + "#/datasets")
    page.click("[data-testid=create-dataset]")
    rename = page.locator("[data-testid=rename-input]")
    expect(rename).to_be_focused()
    if name:
        rename.fill(name)
    rename.press("Enter")
    row = page.locator("[data-testid=dataset-row]").first
    ds_id = row.get_attribute("data-id")
    assert re.match(r"^ds_[0-9a-f]{8}$", ds_id)
    return ds_id


def upload_into(page, ds_id: str, files: list[str], count: int):
    page.goto(page.url.split("#")[0] + f"#/datasets/{ds_id}")
    page.set_input_files("[data-testid=file-input]", files)
    expect(page.locator("[data-testid=import-report]")).to_be_visible(timeout=20_000)
    expect(page.locator("[data-testid=item-card]")).to_have_count(count, timeout=10_000)


def test_create_rename_upload_and_edit_caption(page, live, tmp_path):
    english(page)
    ds_id = create_dataset(page, "Cats 猫")
    row = page.locator(f"[data-testid=dataset-row][data-id={ds_id}]")
    expect(row.locator("[data-testid=dataset-name]")).to_have_text("Cats 猫")
    expect(row.locator("[data-testid=type-badge]")).to_contain_text("Image")
    shot(page, "datasets-list-en")

    files = make_images(tmp_path / "in", 4, captions={"img_00": "cat, sitting, indoors"})
    row.locator("[data-testid=dataset-open]").click()
    expect(page.locator("[data-testid=dataset-title]")).to_have_text("Cats 猫")
    expect(page.locator("[data-testid=grid-empty]")).to_be_visible()
    upload_into(page, ds_id, files, 4)
    expect(page.locator("[data-testid=report-summary]")).to_contain_text("4 imported")
    assert sorted(p.name for p in media_dir(live, ds_id).glob("*.png")) == [f"img_{i:02d}.png" for i in range(4)]

    # the caption that came along with img_00 is shown
    first = page.locator("[data-testid=item-card][data-name='img_00.png']")
    expect(first.locator("[data-testid=caption]")).to_have_value("cat, sitting, indoors")

    # type into a card: autosaves after a pause, written to disk
    card = page.locator("[data-testid=item-card][data-name='img_01.png']")
    box = card.locator("[data-testid=caption]")
    box.click()
    box.fill("dog, running, outdoors")
    expect(card.locator("[data-testid=caption-box]")).to_have_attribute("data-status", "saved", timeout=5000)
    assert caption_on_disk(live, ds_id, "img_01") == "dog, running, outdoors"
    assert_no_raw_keys(page)
    shot(page, "dataset-grid-en")

    # an edit made by another tool while the box has an unsaved change is reported, not overwritten
    box2 = card.locator("[data-testid=caption]")
    box2.fill("dog, running, outdoors, grass")
    (media_dir(live, ds_id) / "img_01.txt").write_text("edited elsewhere", encoding="utf-8")
    expect(card.locator("[data-testid=caption-box]")).to_have_attribute("data-status", "conflict", timeout=5000)
    assert caption_on_disk(live, ds_id, "img_01") == "edited elsewhere"
    card.locator("[data-testid=keep-mine]").click()
    expect(card.locator("[data-testid=caption-box]")).to_have_attribute("data-status", "saved", timeout=5000)
    assert caption_on_disk(live, ds_id, "img_01") == "dog, running, outdoors, grass"

    # the list shows counts
    page.click("a[href='#/datasets']")
    row = page.locator(f"[data-testid=dataset-row][data-id={ds_id}]")
    expect(row.locator("[data-testid=item-count]")).to_have_text("4")
    expect(row.locator("[data-testid=captioned-count]")).to_contain_text("2")
    assert not page.errors, page.errors


def test_viewer_keeps_edits_and_moves_with_arrows(page, live, tmp_path):
    english(page)
    ds_id = create_dataset(page)
    upload_into(page, ds_id, make_images(tmp_path / "in", 3), 3)
    page.locator("[data-testid=item-card][data-name='img_00.png'] [data-testid=item-thumb]").click()
    viewer = page.locator("[data-testid=viewer]")
    expect(viewer).to_be_visible()
    expect(viewer.locator("[data-testid=viewer-name]")).to_have_text("img_00.png")
    viewer.locator("[data-testid=caption]").fill("first caption")
    viewer.locator("[data-testid=caption]").press("Alt+ArrowRight")
    expect(viewer.locator("[data-testid=viewer-name]")).to_have_text("img_01.png")
    wait_for(lambda: caption_on_disk(live, ds_id, "img_00") == "first caption")
    viewer.locator("[data-testid=viewer-prev]").click()
    expect(viewer.locator("[data-testid=caption]")).to_have_value("first caption")
    shot(page, "dataset-viewer-en")
    page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)


def test_tag_drag_reorders_caption_file(page, live, tmp_path):
    english(page)
    ds_id = create_dataset(page)
    files = make_images(tmp_path / "in", 2, captions={"img_00": "alpha, beta, gamma", "img_01": "beta, delta"})
    upload_into(page, ds_id, files, 2)
    page.click("[data-testid=tab-tags]")
    row = page.locator("[data-testid=tag-row][data-name='img_00.png']")
    chips = row.locator("[data-testid=chip]")
    expect(chips).to_have_count(3)
    expect(page.locator("[data-testid=freq-row][data-tag=beta]")).to_contain_text("2")

    # drag "gamma" in front of "alpha"
    src = chips.nth(2).bounding_box()
    dst = chips.nth(0).bounding_box()
    page.mouse.move(src["x"] + src["width"] / 2, src["y"] + src["height"] / 2)
    page.mouse.down()
    steps = 12
    for i in range(1, steps + 1):
        x = src["x"] + src["width"] / 2 + (dst["x"] + 4 - src["x"] - src["width"] / 2) * i / steps
        page.mouse.move(x, dst["y"] + dst["height"] / 2)
        page.wait_for_timeout(20)
    page.mouse.up()
    wait_for(lambda: caption_on_disk(live, ds_id, "img_00") == "gamma, alpha, beta")
    expect(chips).to_have_text(["gamma", "alpha", "beta"])

    # remove a chip and add one with autocomplete
    row.locator("[data-testid=chip][data-tag=alpha] [data-testid=chip-remove]").click()
    wait_for(lambda: caption_on_disk(live, ds_id, "img_00") == "gamma, beta")
    row.locator("[data-testid=add-tag]").click()
    inp = row.locator("[data-testid=add-tag-input]")
    inp.fill("del")
    expect(page.get_by_role("option", name=re.compile("delta"))).to_be_visible()
    inp.press("ArrowDown")
    inp.press("Enter")
    wait_for(lambda: caption_on_disk(live, ds_id, "img_00") == "gamma, beta, delta")
    shot(page, "dataset-tags-en")
    assert not page.errors, page.errors


def test_suggestions_always_match_what_is_typed(page, live, tmp_path):
    """The add-tag field asks for suggestions on focus (every tag) and again as the user types. On a busy
    machine the answer for "delt" can take a while: meanwhile the list must not keep offering the tags for
    the empty field (Enter or a click would pick one of those), and a late answer must not move the
    highlight off the suggestion the user picked."""
    import time

    english(page)
    ds_id = create_dataset(page)
    files = make_images(tmp_path / "in", 2, captions={"img_00": "alpha", "img_01": "delta, dell, zeta"})
    upload_into(page, ds_id, files, 2)
    held = []

    def hold_typed_prefix(route):
        if "prefix=delt" in route.request.url:
            held.append((route, route.fetch()))  # answered by the server now, delivered later
        else:
            route.continue_()

    page.route(re.compile(r".*/tags/suggest.*"), hold_typed_prefix)
    page.click("[data-testid=tab-tags]")
    row = page.locator("[data-testid=tag-row][data-name='img_00.png']")
    options = row.get_by_role("option")
    row.locator("[data-testid=add-tag]").click()
    expect(row.get_by_role("option", name=re.compile("zeta"))).to_be_visible()  # the empty field's answer
    inp = row.locator("[data-testid=add-tag-input]")
    inp.fill("delt")
    expect(options).to_have_count(0)  # nothing offered until the answer for "delt" is in
    deadline = time.monotonic() + 15
    while not held:
        assert time.monotonic() < deadline, "the field never asked for suggestions for what was typed"
        page.wait_for_timeout(50)  # lets Playwright dispatch the route handler while we wait
    route, answer = held[0]
    route.fulfill(response=answer)
    expect(options).to_have_count(1)
    inp.press("ArrowDown")
    expect(row.get_by_role("option", name=re.compile("delta"))).to_have_attribute("aria-selected", "true")
    inp.press("Enter")
    wait_for(lambda: caption_on_disk(live, ds_id, "img_00") == "alpha, delta")
    page.unroute(re.compile(r".*/tags/suggest.*"))


def test_batch_replace_tag_then_undo_and_redo(page, live, tmp_path):
    english(page)
    ds_id = create_dataset(page)
    files = make_images(tmp_path / "in", 3, captions={
        "img_00": "1girl, red hair, smile", "img_01": "1girl, red hair", "img_02": "landscape"})
    upload_into(page, ds_id, files, 3)
    page.click("[data-testid=tab-tags]")
    page.select_option("[data-testid=op-select]", "replace_tag")
    page.fill("[data-testid=op-tag]", "red hair")
    page.fill("[data-testid=op-tag2]", "blue hair")
    page.keyboard.press("Escape")
    page.select_option("[data-testid=op-scope]", "filter")
    page.click("[data-testid=op-apply]")
    wait_for(lambda: caption_on_disk(live, ds_id, "img_00") == "1girl, blue hair, smile"
             and caption_on_disk(live, ds_id, "img_01") == "1girl, blue hair")
    assert caption_on_disk(live, ds_id, "img_02") == "landscape"
    expect(page.locator("[data-testid=notice]")).to_contain_text("2 items changed")
    # the step's text comes from its op + params (translated), not from the server's English label
    expect(page.locator("[data-testid=undo]")).to_have_text("Undo: replace tag red hair → blue hair")
    expect(page.locator("[data-testid=tag-row][data-name='img_01.png'] [data-testid=chip]")).to_have_text(["1girl", "blue hair"])

    page.click("[data-testid=undo]")
    wait_for(lambda: caption_on_disk(live, ds_id, "img_00") == "1girl, red hair, smile"
             and caption_on_disk(live, ds_id, "img_01") == "1girl, red hair")
    expect(page.locator("[data-testid=tag-row][data-name='img_01.png'] [data-testid=chip]")).to_have_text(["1girl", "red hair"])
    expect(page.locator("[data-testid=redo]")).to_be_enabled()

    expect(page.locator("[data-testid=redo]")).to_have_text("Redo: replace tag red hair → blue hair")
    page.click("[data-testid=redo]")
    wait_for(lambda: caption_on_disk(live, ds_id, "img_01") == "1girl, blue hair")
    # the files are written before the step is marked done (the journal's order): wait for the step
    hist = wait_for(lambda: (h := live.call("GET", f"/api/datasets/{ds_id}/history"))["undo"] and h)
    assert hist["undo"]["op"] == "replace_tag" and hist["undo"]["params"] == {"old": "red hair", "new": "blue hair"}
    page.select_option("[data-testid=lang-select]", "zh-CN")
    expect(page.locator("[data-testid=undo]")).to_have_text("撤销：替换标签 red hair → blue hair")
    english(page)

    # the frequency panel filters the items
    page.locator("[data-testid=freq-row][data-tag=landscape]").click()
    expect(page.locator("[data-testid=tag-row]")).to_have_count(1)
    expect(page.locator("[data-testid=tag-filter]")).to_contain_text("landscape")
    assert not page.errors, page.errors


def test_selection_and_batch_caption_actions(page, live, tmp_path):
    english(page)
    ds_id = create_dataset(page)
    upload_into(page, ds_id, make_images(tmp_path / "in", 5), 5)
    cards = page.locator("[data-testid=item-card]")
    cards.nth(0).locator("[data-testid=item-check]").click()
    cards.nth(3).locator("[data-testid=item-check]").click(modifiers=["Shift"])
    expect(page.locator("[data-testid=selection-count]")).to_have_text("4 selected")
    page.click("[data-testid=batch-menu]")
    page.click("[data-testid=batch-set]")
    page.fill("[data-testid=batch-text]", "photo")
    page.click("[data-testid=batch-apply]")
    wait_for(lambda: all(caption_on_disk(live, ds_id, f"img_{i:02d}") == "photo" for i in range(4)))
    assert caption_on_disk(live, ds_id, "img_04") is None
    page.click("[data-testid=batch-menu]")
    page.click("[data-testid=batch-append]")
    page.fill("[data-testid=batch-text]", "outdoors")
    page.click("[data-testid=batch-apply]")
    wait_for(lambda: caption_on_disk(live, ds_id, "img_02") == "photo, outdoors")
    expect(cards.nth(2).locator("[data-testid=caption]")).to_have_value("photo, outdoors")

    # invert, then delete the one left to the trash
    page.click("[data-testid=select-invert]")
    expect(page.locator("[data-testid=selection-count]")).to_have_text("1 selected")
    page.click("[data-testid=batch-menu]")
    page.click("[data-testid=batch-delete]")
    page.click("[data-testid=confirm-ok]")
    expect(cards).to_have_count(4)
    assert not (media_dir(live, ds_id) / "img_04.png").exists()

    # search filters the grid
    page.fill("[data-testid=search]", "img_01")
    expect(cards).to_have_count(1)
    assert not page.errors, page.errors


def test_delete_dataset_to_trash_and_restore(page, live, tmp_path):
    english(page)
    ds_id = create_dataset(page, "Keep me")
    row = page.locator(f"[data-testid=dataset-row][data-id={ds_id}]")
    row.locator("[data-testid=dataset-delete]").click()
    expect(page.locator("[data-testid=confirm-message]")).to_contain_text("Keep me")
    page.click("[data-testid=confirm-ok]")
    expect(row).to_have_count(0)
    page.click("[data-testid=trash-open]")
    trash_row = page.locator(f"[data-testid=trash-row][data-id={ds_id}]")
    expect(trash_row).to_be_visible()
    shot(page, "datasets-trash-en")
    trash_row.locator("[data-testid=restore-dataset]").click()
    expect(trash_row).to_have_count(0)
    page.click("[data-testid=trash-back]")
    expect(page.locator(f"[data-testid=dataset-row][data-id={ds_id}]")).to_be_visible()
    assert (Path(live.data_dir) / "datasets" / ds_id / "media").is_dir()


def test_type_change_explains_effects(page, live, tmp_path):
    english(page)
    ds_id = create_dataset(page)
    upload_into(page, ds_id, make_images(tmp_path / "in", 2), 2)
    page.click("a[href='#/datasets']")
    page.locator(f"[data-testid=dataset-row][data-id={ds_id}] [data-testid=dataset-settings]").click()
    page.select_option("[data-testid=editor-type]", "video")
    expect(page.locator("[data-testid=type-effects]")).to_contain_text("2 items are not videos")
    page.select_option("[data-testid=editor-type]", "image_control")
    expect(page.locator("[data-testid=type-effects]")).to_contain_text("no control image")
    # the dataset's trigger word: one tag, checked before it is sent
    page.fill("[data-testid=editor-trigger]", "ohwx, girl")
    page.click("[data-testid=editor-save]")
    expect(page.locator("[data-testid=editor-trigger-error]")).to_contain_text("no commas")
    page.fill("[data-testid=editor-trigger]", "  ohwx 猫 ")
    page.click("[data-testid=editor-save]")
    row = page.locator(f"[data-testid=dataset-row][data-id={ds_id}]")
    expect(row.locator("[data-testid=type-badge]")).to_have_attribute("data-type", "image_control")
    expect(row.locator("[data-testid=row-trigger]")).to_have_text("Trigger: ohwx 猫")
    assert live.call("GET", f"/api/datasets/{ds_id}")["dataset"]["trigger_word"] == "ohwx 猫"
    row.locator("[data-testid=dataset-open]").click()
    expect(page.locator("[data-testid=dataset-trigger]")).to_have_text("ohwx 猫")
    # the auto-tag dialog starts from the dataset's trigger word
    page.click("[data-testid=autotag-open]")
    expect(page.locator("[data-testid=tag-trigger]")).to_have_value("ohwx 猫")
    page.keyboard.press("Escape")
    expect(page.locator("[data-testid=tag-trigger]")).to_have_count(0)
    expect(page.locator("[data-testid=missing-control]")).to_have_count(2)
    shot(page, "dataset-control-en")

    # a control image uploaded into the card's control slot pairs with that item
    ctrl = tmp_path / "ctrl.png"
    Image.new("RGB", (96, 72), "black").save(ctrl)
    card = page.locator("[data-testid=item-card][data-name='img_00.png']")
    card.locator("input[type=file]").set_input_files(str(ctrl))
    expect(card.locator("[data-testid=missing-control]")).to_have_count(0)
    expect(page.locator("[data-testid=missing-control]")).to_have_count(1)
    controls = list((Path(live.data_dir) / "datasets" / ds_id / "control").glob("img_00*.png"))
    assert len(controls) == 1, controls


def test_drop_files_anywhere_on_the_page_uploads_them(page, live, tmp_path):
    english(page)
    ds_id = create_dataset(page)
    page.goto(live.base + f"/#/datasets/{ds_id}")
    expect(page.locator("[data-testid=grid-empty]")).to_be_visible()
    png = make_images(tmp_path / "in", 1)[0]
    import base64
    data = base64.b64encode(Path(png).read_bytes()).decode()
    page.evaluate("""(b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
        dt.items.add(new File(['dropped, tag'], 'dropped.txt', { type: 'text/plain' }));
        const target = document.querySelector('[data-testid=dataset-page]');
        for (const type of ['dragenter', 'dragover', 'drop']) {
            target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
        }
    }""", data)
    expect(page.locator("[data-testid=item-card][data-name='dropped.png']")).to_be_visible(timeout=20_000)
    wait_for(lambda: caption_on_disk(live, ds_id, "dropped") == "dropped, tag")
    expect(page.locator("[data-testid=dropzone]")).to_have_count(0)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_chinese_screens_have_no_raw_keys(page, live, tmp_path, theme):
    page.select_option("[data-testid=lang-select]", "zh-CN")
    page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
    ds_id = create_dataset(page, "风景")
    expect(page.locator("[data-testid=create-dataset]")).to_contain_text("创建数据集")
    assert_no_raw_keys(page)
    assert_no_english(page)
    shot(page, f"datasets-list-zh-{theme}")
    upload_into(page, ds_id, make_images(tmp_path / "in", 6, captions={"img_00": "风景, 山, 湖"}), 6)
    page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
    expect(page.locator("[data-testid=tab-manage]")).to_contain_text("数据集管理")
    assert_no_raw_keys(page)
    assert_no_english(page)
    shot(page, f"dataset-grid-zh-{theme}")
    page.click("[data-testid=tab-tags]")
    expect(page.locator("[data-testid=tag-panel]")).to_be_visible()
    assert_no_raw_keys(page)
    assert_no_english(page)
    shot(page, f"dataset-tags-zh-{theme}")
    assert not page.errors, page.errors


def test_cancel_upload_while_chunks_are_sent_keeps_nothing(page, live, tmp_path):
    """260 files go in two chunks (250 files per chunk); the second is held back on its way, the user
    cancels, and the chunk the server already has is discarded by the real server: nothing imported."""
    english(page)
    ds_id = create_dataset(page)
    folder = tmp_path / "many"
    folder.mkdir()
    files = []
    for i in range(260):
        p = folder / f"tiny_{i:03d}.png"
        Image.new("RGB", (8, 8), COLORS[i % len(COLORS)]).save(p)
        files.append(str(p))
    held, posts = [], []

    def hold_second_chunk(route):
        if route.request.method != "POST":
            return route.continue_()
        posts.append(route.request.url)
        if len(posts) == 1:
            return route.continue_()
        held.append(route)  # never answered: the chunk stays "in flight" until the browser aborts it

    page.route("**/api/datasets/*/upload", hold_second_chunk)
    page.goto(live.base + f"/#/datasets/{ds_id}")
    expect(page.locator("[data-testid=grid-empty]")).to_be_visible()
    page.set_input_files("[data-testid=file-input]", files)
    progress = page.locator("[data-testid=upload-progress]")
    expect(progress).to_contain_text("part 2 of 2", timeout=20_000)
    staging = Path(live.data_dir) / "cache" / "uploads"

    def first_staged_second_held():
        # A round trip to the browser: sync Playwright runs route handlers only inside its own calls, so
        # a second chunk that arrived after the expect above is held only once something calls it.
        page.evaluate("0")
        staged = [d for d in staging.iterdir() if len(list(d.iterdir())) == 250] if staging.is_dir() else []
        return staged if staged and held else None
    staged = wait_for(first_staged_second_held)
    assert len(staged) == 1 and held, (staged, held)

    shot(page, "dataset-upload-cancel-en")
    page.click("[data-testid=upload-cancel]")
    expect(page.locator("[data-testid=notice]")).to_contain_text("Upload cancelled")
    shot(page, "dataset-upload-cancelled-en")
    expect(progress).to_have_count(0)
    wait_for(lambda: not staged[0].exists())
    assert list(staging.iterdir()) == []
    page.unroute("**/api/datasets/*/upload")
    for route in held:
        try:
            route.abort()
        except Exception:  # noqa: BLE001 - the browser already dropped the request
            pass
    page.wait_for_timeout(500)
    assert list(media_dir(live, ds_id).iterdir()) == []
    assert live.call("GET", f"/api/datasets/{ds_id}/items")["total"] == 0
    jobs = live.call("GET", f"/api/jobs?owner=dataset:{ds_id}")["jobs"]
    assert not [j for j in jobs if j["kind"] == "dataset_import"], jobs
    expect(page.locator("[data-testid=grid-empty]")).to_be_visible()
    assert not page.errors, page.errors


def test_uploading_the_same_pictures_again_reports_duplicates(page, live, tmp_path):
    """Issue 12.5: the same files again are recognised by content, not copied as img_00_1.png."""
    page.select_option("[data-testid=lang-select]", "zh-CN")
    ds_id = create_dataset(page)
    files = make_images(tmp_path / "in", 3)
    upload_into(page, ds_id, files, 3)
    page.locator("[data-testid=import-report] button.x").click()
    page.set_input_files("[data-testid=file-input]", files)
    report = page.locator("[data-testid=import-report]")
    expect(report.locator("[data-testid=report-duplicates]")).to_have_text("3 个已在数据集中", timeout=20_000)
    report.locator("[data-testid=report-details]").click()
    expect(report.locator(".details li")).to_have_count(3)
    expect(report.locator(".details li").first).to_contain_text("数据集中已有（内容相同）")
    assert_no_raw_keys(page)
    expect(page.locator("[data-testid=item-card]")).to_have_count(3)
    assert sorted(p.name for p in media_dir(live, ds_id).glob("*.png")) == ["img_00.png", "img_01.png", "img_02.png"]
    page.select_option("[data-testid=lang-select]", "en")
    assert not page.errors, page.errors
