"""Helpers for dataset tests: real images made with Pillow, a real tiny video, a dataset handle."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image


def make_image(path: Path, size=(64, 48), color=(200, 30, 30), fmt=None, exif_orientation=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, color)
    # A marker in the top-left corner lets orientation tests see which way the image was turned.
    img.paste((0, 0, 255), (0, 0, size[0] // 4, size[1] // 4))
    kw = {}
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kw["exif"] = exif
    img.save(path, format=fmt, **kw)
    return path


def image_bytes(size=(32, 32), color=(0, 128, 0), fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format=fmt)
    return buf.getvalue()


def make_video(path: Path, frames=5, size=(64, 48), fps=10) -> Path:
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as c:
        s = c.add_stream("mpeg4", rate=fps)
        s.width, s.height, s.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            for p in s.encode(av.VideoFrame.from_image(Image.new("RGB", size, (i * 40 % 255, 90, 0)))):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


class DS:
    """A dataset under test plus shortcuts to its API."""

    def __init__(self, api, svc, data):
        self.api, self.svc, self.data = api, svc, data
        self.id = data["id"]

    @property
    def base(self):
        return f"/api/datasets/{self.id}"

    @property
    def media(self) -> Path:
        return self.svc.layout.datasets / self.id / "media"

    @property
    def control(self) -> Path:
        return self.svc.layout.datasets / self.id / "control"

    def import_folder(self, folder: Path, slot="media") -> dict:
        r = self.api.post(f"{self.base}/import", json={"source": "folder", "path": str(folder), "slot": slot})
        assert r.status_code == 202, r.get_json()
        job = self.svc.jobs.wait(r.get_json()["job"]["id"])
        assert job["status"] == "done", job
        return job["result"]

    def items(self, **args) -> dict:
        r = self.api.get(f"{self.base}/items", query_string=args)
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def item(self, name) -> dict:
        found = [i for i in self.items(limit=500)["items"] if i["name"] == name]
        assert found, f"{name} not listed"
        return found[0]

    def op(self, op, params=None, target=None):
        return self.api.post(f"{self.base}/ops", json={"op": op, "params": params or {},
                                                       "target": target or {"all": True}})

    def wait_jobs(self):
        for job in self.svc.jobs.list(owner=f"dataset:{self.id}"):
            self.svc.jobs.wait(job["id"])
