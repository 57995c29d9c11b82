"""The dataset page keeps up with changes made elsewhere, its tag chips drag under the cursor and its
selection boxes show their state (issue 13, items 9, 10 and 4)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import new_page
from tests.browser.test_small_window import import_images


def test_header_counts_follow_caption_writes_undo_and_deletes(browser, live, tmp_path):
    live.call("PATCH", "/api/settings", {"first_run_done": True, "language": "zh-CN"})
    ds = live.call("POST", "/api/datasets", {"name": "猫", "type": "image"})["dataset"]
    import_images(live, ds["id"], tmp_path / "in", 5, {0: "cat"})
    pg = new_page(browser, live)
    pg.goto(live.base + f"/#/datasets/{ds['id']}")
    stats = pg.locator("[data-testid=dataset-stats]")
    expect(stats).to_contain_text("5 项 · 1 项已打标")

    # captions written by someone else (auto-tag writes the same way: one batch step, item events)
    names = ["img_01.png", "img_02.png", "img_03.png"]
    live.call("POST", f"/api/datasets/{ds['id']}/ops", {"op": "set", "params": {"text": "cat, sofa"},
                                                        "target": {"names": names}})
    expect(stats).to_contain_text("5 项 · 4 项已打标")
    live.call("POST", f"/api/datasets/{ds['id']}/undo")
    expect(stats).to_contain_text("5 项 · 1 项已打标")
    live.call("POST", f"/api/datasets/{ds['id']}/items/delete", {"target": {"names": ["img_00.png"]}})
    expect(stats).to_contain_text("4 项 · 0 项已打标")
    assert not pg.errors, pg.errors
    pg.context.close()


def test_dragged_chip_stays_under_the_cursor(browser, live, tmp_path):
    live.call("PATCH", "/api/settings", {"first_run_done": True})
    ds = live.call("POST", "/api/datasets", {"name": "tags", "type": "image"})["dataset"]
    import_images(live, ds["id"], tmp_path / "in", 3, {0: "alpha, beta, gamma, delta"})
    pg = new_page(browser, live)
    pg.goto(live.base + f"/#/datasets/{ds['id']}?tab=tags")
    row = pg.locator("[data-testid=tag-row][data-name='img_00.png']")
    chips = row.locator("[data-testid=chip]")
    expect(chips).to_have_count(4)
    src = chips.nth(3).bounding_box()
    x, y = src["x"] + src["width"] / 2, src["y"] + src["height"] / 2
    pg.mouse.move(x, y)
    pg.mouse.down()
    offsets = []
    for i in range(1, 9):
        pg.mouse.move(x - 12 * i, y + 2)
        ghost = pg.locator(".sortable-fallback")
        if ghost.count():
            g = ghost.bounding_box()
            offsets.append((g["x"] + g["width"] / 2 - (x - 12 * i), g["y"] + g["height"] / 2 - (y + 2)))
    pg.mouse.up()
    assert offsets, "no drag image appeared"
    # SortableJS keeps the grab point: the image may be off by up to half a chip, never by hundreds of px
    worst = max(max(abs(dx), abs(dy)) for dx, dy in offsets)
    assert worst <= max(src["width"], src["height"]), f"the drag image is {worst:.0f} px from the cursor: {offsets}"
    assert not pg.errors, pg.errors
    pg.context.close()


def test_selection_boxes_show_their_state_in_both_tabs(browser, live, tmp_path):
    """Item 4: the box of a selected card or tag-editor row is ticked, and unticked when deselected."""
    live.call("PATCH", "/api/settings", {"first_run_done": True})
    ds = live.call("POST", "/api/datasets", {"name": "boxes", "type": "image"})["dataset"]
    import_images(live, ds["id"], tmp_path / "in", 3)
    pg = new_page(browser, live)
    pg.goto(live.base + f"/#/datasets/{ds['id']}")
    card_box = pg.locator("[data-testid=item-card][data-name='img_01.png'] [data-testid=item-check]")
    card_box.click()
    expect(card_box).to_be_checked()
    pg.click("[data-testid=tab-tags]")
    row_box = pg.locator("[data-testid=tag-row][data-name='img_01.png'] [data-testid=row-check]")
    expect(row_box).to_be_checked()
    row_box.click()
    expect(row_box).not_to_be_checked()
    pg.locator("[data-testid=tag-row][data-name='img_02.png'] [data-testid=row-check]").click()
    expect(pg.locator("[data-testid=tag-row][data-name='img_02.png'] [data-testid=row-check]")).to_be_checked()
    pg.click("[data-testid=tab-manage]")
    expect(card_box).not_to_be_checked()
    expect(pg.locator("[data-testid=item-card][data-name='img_02.png'] [data-testid=item-check]")).to_be_checked()
    assert not pg.errors, pg.errors
    pg.context.close()
