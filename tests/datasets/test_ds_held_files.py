"""Deleting an item whose file another program holds open for a moment (Windows: the viewer streaming
it, an antivirus scan) waits for it instead of failing half-way with a copy left in the trash."""

from tests.system.held import HeldFiles


def test_delete_item_while_its_file_is_briefly_held(filled, api, monkeypatch):
    held = HeldFiles(monkeypatch)
    held.hold(filled.media / "img0.png", attempts=2)
    item = filled.item("img0.png")
    r = api.post(f"{filled.base}/items/delete", json={"target": {"ids": [item["id"]]}})
    assert r.status_code == 200, r.get_json()
    assert held.denied == 2
    assert not (filled.media / "img0.png").exists()
    trashed = list(filled.svc.layout.root.rglob("img0.png"))
    assert len(trashed) == 1, trashed  # moved once, not copied
