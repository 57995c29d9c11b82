"""Items deleted from a dataset can be seen and brought back (issue 13, item 3), in Chinese.

Undo right after a batch delete, the dataset's own trash dialog, the global trash listing items, and
清空回收站 that is enabled and honest when only items are in it. Checked on disk, not only on screen.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import new_page, shot
from tests.browser.screen_text import assert_no_english
from tests.browser.test_small_window import import_images


def media(live, ds_id: str) -> Path:
    return Path(live.data_dir) / "datasets" / ds_id / "media"


def on_disk(live, ds_id: str) -> list[str]:
    return sorted(p.name for p in media(live, ds_id).glob("*.png"))


def zh_page(browser, live, hash_path: str):
    live.call("PATCH", "/api/settings", {"first_run_done": True, "language": "zh-CN"})
    pg = new_page(browser, live)
    pg.goto(live.base + "/#" + hash_path)
    return pg


def dataset_with_images(live, tmp_path, n=4) -> str:
    ds = live.call("POST", "/api/datasets", {"name": "猫", "type": "image"})["dataset"]
    import_images(live, ds["id"], tmp_path / "in", n, {0: "cat, indoors", 1: "cat"})
    return ds["id"]


def test_batch_delete_is_undone_and_items_restore_from_the_dataset_trash(browser, live, tmp_path):
    ds_id = dataset_with_images(live, tmp_path)
    pg = zh_page(browser, live, f"/datasets/{ds_id}")
    cards = pg.locator("[data-testid=item-card]")
    expect(cards).to_have_count(4)

    # item 4: a ticked card shows a ticked box
    for i in (0, 1):
        box = cards.nth(i).locator("[data-testid=item-check]")
        box.click()
        expect(box).to_be_checked()
    expect(pg.locator("[data-testid=selection-count]")).to_have_text("已选 2 项")
    pg.click("[data-testid=batch-menu]")
    pg.click("[data-testid=batch-delete]")
    pg.click("[data-testid=confirm-ok]")
    expect(cards).to_have_count(2)
    assert on_disk(live, ds_id) == ["img_02.png", "img_03.png"]
    expect(pg.locator("[data-testid=item-trash-count]")).to_have_text("2")

    # Undo (the button, as Ctrl+Z would) brings both back with their captions
    undo = pg.locator("[data-testid=undo]")
    expect(undo).to_be_enabled()
    expect(undo).to_contain_text("删除 2 项")
    undo.click()
    expect(cards).to_have_count(4)
    assert on_disk(live, ds_id) == ["img_00.png", "img_01.png", "img_02.png", "img_03.png"]
    assert (media(live, ds_id) / "img_00.txt").read_text(encoding="utf-8") == "cat, indoors"
    expect(pg.locator("[data-testid=item-trash-count]")).to_have_count(0)

    # delete one more; it is listed in the dataset's trash and restores from there
    cards.nth(3).locator("[data-testid=item-check]").click()
    pg.click("[data-testid=batch-menu]")
    pg.click("[data-testid=batch-delete]")
    pg.click("[data-testid=confirm-ok]")
    expect(cards).to_have_count(3)
    pg.click("[data-testid=item-trash-open]")
    entry = pg.locator("[data-testid=trash-entry]")
    expect(entry).to_have_count(1)
    expect(entry).to_have_attribute("data-name", "img_03.png")
    assert_no_english(pg)
    shot(pg, "item-trash-zh")
    entry.locator("[data-testid=restore-entry]").click()
    expect(pg.locator("[data-testid=item-trash-empty]")).to_be_visible()
    expect(cards).to_have_count(4)
    assert "img_03.png" in on_disk(live, ds_id)
    # restored from the dialog, so Undo no longer offers that deletion (nothing else was done here)
    pg.keyboard.press("Escape")
    expect(pg.locator("[data-testid=undo]")).to_be_disabled()
    assert not pg.errors, pg.errors
    pg.context.close()


def test_global_trash_lists_deleted_items_and_empties_what_it_says(browser, live, tmp_path):
    ds_id = dataset_with_images(live, tmp_path)
    live.call("POST", f"/api/datasets/{ds_id}/items/delete", {"target": {"names": ["img_00.png", "img_01.png"]}})
    pg = zh_page(browser, live, "/datasets")
    pg.click("[data-testid=trash-open]")
    row = pg.locator(f"[data-testid=trash-items-row][data-id={ds_id}]")
    expect(row.locator("[data-testid=trash-items-count]")).to_have_text("2 个已删除的项目")
    expect(pg.locator("[data-testid=trash-empty-note]")).to_have_count(0)
    empty = pg.locator("[data-testid=trash-empty]")
    expect(empty).to_be_enabled()
    assert_no_english(pg)
    shot(pg, "trash-items-zh")

    # "view and restore" opens the dataset with its trash
    row.locator("[data-testid=trash-items-open]").click()
    expect(pg.locator("[data-testid=trash-entry]")).to_have_count(2)
    pg.keyboard.press("Escape")
    pg.goto(live.base + "/#/datasets?trash=1")
    empty.click()
    message = pg.locator("[data-testid=confirm-message]")
    expect(message).to_contain_text("0 个数据集")
    expect(message).to_contain_text("2 个已删除的项目")
    pg.click("[data-testid=confirm-ok]")
    expect(pg.locator("[data-testid=trash-empty-note]")).to_be_visible()
    expect(empty).to_be_disabled()
    assert live.call("GET", "/api/trash")["item_counts"] == {}
    assert not any((Path(live.data_dir) / "trash" / "items").rglob("*.png"))
    assert not pg.errors, pg.errors
    pg.context.close()


def test_a_server_error_reads_in_chinese(browser, live, tmp_path):
    """Restoring an entry that was emptied meanwhile: the banner shows the code's translation, not English."""
    ds_id = dataset_with_images(live, tmp_path, n=2)
    live.call("POST", f"/api/datasets/{ds_id}/items/delete", {"target": {"names": ["img_00.png"]}})
    pg = zh_page(browser, live, f"/datasets/{ds_id}?trash=1")
    entry = pg.locator("[data-testid=trash-entry]")
    expect(entry).to_have_count(1)
    live.call("POST", f"/api/datasets/{ds_id}/trash/empty", {"confirm": True})
    entry.locator("[data-testid=restore-entry]").click()
    banner = pg.locator("[data-testid=error-banner]")
    expect(banner).to_have_attribute("data-code", "trash_entry_not_found")
    expect(banner).to_contain_text("其中部分内容已不在回收站中。")
    # the server's own sentence stays available on hover
    expect(banner.locator("span.grow")).to_have_attribute("title", "Some of these entries are no longer in the trash.")
    assert_no_english(pg)
    expect(entry).to_have_count(0)
    assert not pg.errors, pg.errors
    pg.context.close()


def test_import_path_errors_read_in_chinese(browser, live, tmp_path):
    """The import dialog shows the server's refusal (path_not_absolute, not_a_folder) by its code, in Chinese."""
    ds_id = dataset_with_images(live, tmp_path, n=1)
    pg = zh_page(browser, live, f"/datasets/{ds_id}")
    pg.click("[data-testid=import-open]")
    error = pg.locator("[data-testid=import-error]")
    pg.fill("[data-testid=import-path]", "pictures/cats")
    pg.click("[data-testid=import-start]")
    expect(error).to_have_text("请填写完整路径（以盘符或 / 开头）。")
    (tmp_path / "a-file.txt").write_text("x", encoding="utf-8")
    pg.fill("[data-testid=import-path]", str(tmp_path / "a-file.txt"))
    pg.click("[data-testid=import-start]")
    expect(error).to_have_text("该路径不是文件夹。")
    assert_no_english(pg)
    assert not pg.errors, pg.errors
    pg.context.close()


def test_undo_after_a_delete_restores_first_then_undoes_the_earlier_caption_step(browser, live, tmp_path):
    ds_id = dataset_with_images(live, tmp_path, n=3)
    live.call("POST", f"/api/datasets/{ds_id}/ops", {"op": "set", "params": {"text": "dog"},
                                                     "target": {"names": ["img_02.png"]}})
    pg = zh_page(browser, live, f"/datasets/{ds_id}")
    cards = pg.locator("[data-testid=item-card]")
    expect(cards).to_have_count(3)
    cards.nth(0).locator("[data-testid=item-check]").click()
    pg.click("[data-testid=batch-menu]")
    pg.click("[data-testid=batch-delete]")
    pg.click("[data-testid=confirm-ok]")
    expect(cards).to_have_count(2)
    pg.locator("[data-testid=item-card]").first.click(position={"x": 5, "y": 5})  # focus the page, not a box
    pg.keyboard.press("Control+z")
    expect(cards).to_have_count(3)
    assert on_disk(live, ds_id) == ["img_00.png", "img_01.png", "img_02.png"]
    # the next undo is the caption step from before the delete
    undo = pg.locator("[data-testid=undo]")
    expect(undo).to_be_enabled()
    undo.click()
    expect(pg.locator("[data-testid=notice]")).to_contain_text("撤销")
    assert not (media(live, ds_id) / "img_02.txt").exists() or \
        (media(live, ds_id) / "img_02.txt").read_text(encoding="utf-8") != "dog"
    assert not pg.errors, pg.errors
    pg.context.close()
