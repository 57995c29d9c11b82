"""Fixtures for dataset tests: datasets made through the API, source folders, jobs that finish."""

from __future__ import annotations

import pytest

from ds_helpers import DS, make_image


@pytest.fixture(autouse=True)
def _jobs_finish_before_teardown(svc):
    """The shared app fixture closes sqlite with wait=False; a thumbnail job still running on a
    closed connection can crash the interpreter, so every dataset test lets its jobs end first."""
    yield
    for _ in range(5):  # a finishing import may start a thumbnail job: look again
        active = svc.jobs.list(active_only=True)
        if not active:
            break
        for job in active:
            svc.jobs.cancel(job["id"])
            svc.jobs.wait(job["id"])


@pytest.fixture
def make_ds(api, svc):
    def make(type_="image", name=None):
        body = {"type": type_}
        if name:
            body["name"] = name
        r = api.post("/api/datasets", json=body)
        assert r.status_code == 201, r.get_json()
        return DS(api, svc, r.get_json()["dataset"])
    return make


@pytest.fixture
def ds(make_ds):
    return make_ds()


@pytest.fixture
def src(tmp_path):
    """A source folder outside the data dir, like a user's own folder of pictures."""
    d = tmp_path / "source"
    d.mkdir()
    return d


@pytest.fixture
def filled(ds, src):
    """A dataset with three captioned images and one without a caption."""
    for i, cap in enumerate(["1girl, solo, smile", "1boy, solo", "cat, outdoors, solo", None]):
        make_image(src / f"img{i}.png", color=(i * 50, 0, 0), size=(40 + i, 30))
        if cap is not None:
            (src / f"img{i}.txt").write_text(cap, encoding="utf-8")
    ds.import_folder(src)
    ds.wait_jobs()
    return ds
