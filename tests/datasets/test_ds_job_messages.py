"""The import and thumbnail jobs report coded progress (server/jobs/messages.py) that the dataset page
translates, the file as a parameter (issue 13, item 3)."""

from __future__ import annotations

from tests.datasets.ds_helpers import make_image


def test_import_and_thumbnails_report_coded_progress(svc, ds, src):
    make_image(src / "a.png")
    sub = svc.bus.subscription()
    sub.subscribe("jobs")
    ds.import_folder(src)
    ds.wait_jobs()
    seen = []
    while (ev := sub.get(timeout=0.2)) is not None:
        job = ev["data"]
        seen.append((job["kind"], job["message_code"], job["message_params"], job["message"]))
    assert ("dataset_import", "import_start", {}, "Importing") in seen
    assert ("dataset_import", "import_file", {"file": "a.png"}, "Importing a.png") in seen
    assert ("thumbnails", "thumbnails", {}, "Generating thumbnails") in seen
    # no message reaches the UI as a bare English line
    assert not [s for s in seen if s[3] and s[1] is None], seen
