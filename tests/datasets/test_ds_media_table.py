"""One table of media extensions (server/media_types.py): import takes every file training reads, the
UI gets the table from GET /api/meta, and no second list appears in the server or the UI."""

import re
from pathlib import Path

import av
from PIL import Image

from ds_helpers import make_image
from server.media_types import IMAGE_EXTS, MEDIA_EXTS, VIDEO_EXTS
from server.training import dataset_source

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "server" / "media_types.py"
# PyAV encoders each container takes (the test machine's FFmpeg has these).
VIDEO_CODEC = {".webm": "libvpx", ".flv": "flv"}


def _video(path: Path, shade: int) -> None:
    with av.open(str(path), "w") as c:
        s = c.add_stream(VIDEO_CODEC.get(path.suffix.lower(), "mpeg4"), rate=10)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for i in range(3):
            for p in s.encode(av.VideoFrame.from_image(Image.new("RGB", (64, 48), (i * 60, shade, 0)))):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


def test_import_takes_every_file_training_reads(make_ds, svc, tmp_path):
    image = lambda p, shade: make_image(p, color=(200, shade, 30))  # noqa: E731 - distinct content: no duplicates
    for kind, make in (("image", image), ("video", _video)):
        src = tmp_path / kind
        src.mkdir()
        for i, ext in enumerate(sorted(MEDIA_EXTS[kind])):
            make(src / f"f{ext[1:]}{ext}", 20 * i)
        make(src / "upper.PNG" if kind == "image" else src / "upper.MP4", 250)   # musubi lists upper case too
        (src / "other.wmv").write_bytes(b"\0" * 64)                        # in musubi's list, not in ours
        ds = make_ds(kind)
        report = ds.import_folder(src)
        names = sorted(p.name for p in src.iterdir() if p.suffix != ".wmv")
        assert report["imported"] == len(names), report
        assert {s["path"]: s["reason"] for s in report["skipped"]} == {"other.wmv": "unsupported_type"}
        listed = [p.name for p in dataset_source.lookup(svc.store, svc.layout, ds.id).media_files()]
        assert sorted(listed) == sorted(n[:-4] + n[-4:].lower() for n in names)  # import lower-cases the extension


def test_the_ui_gets_the_table(api):
    meta = api.get("/api/meta").get_json()
    assert meta["media"] == {"image": sorted(e[1:] for e in IMAGE_EXTS), "video": sorted(e[1:] for e in VIDEO_EXTS)}
    assert "flv" in meta["media"]["video"]


EXT = "|".join(sorted({e[1:] for e in IMAGE_EXTS | VIDEO_EXTS}, key=len, reverse=True))
# A quoted extension that only input lists hold (musubi writes png/jpg/webp/mp4 samples, thumbnails are
# jpg), or two media extensions listed in a row in any text (an i18n help string).
SECOND_LIST = re.compile(r"""['"`]\.?(jpeg|bmp|avif|webm|mov|mkv|avi|flv)['"`]"""
                         rf"|\b({EXT})\s*[,、]\s*\.?({EXT})\b")


def second_lists(root: Path) -> list[str]:
    found = []
    for folder in (root / "server", root / "ui" / "src"):
        for path in folder.rglob("*"):
            if path.suffix not in (".py", ".js", ".svelte") or path == TABLE or "node_modules" in path.parts:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if SECOND_LIST.search(line):
                    found.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    return found


def test_no_second_list_of_media_extensions():
    assert second_lists(ROOT) == [], "media extensions belong in server/media_types.py (served by /api/meta)"


def test_the_scan_finds_a_second_list(tmp_path):
    for rel, text in (("server/tagging/x.py", 'VIDEO = (".mp4", ".webm")'),
                      ("ui/src/lib/x.js", "export const VIDEO_EXT = ['mp4', 'mkv'];"),
                      ("ui/src/lib/i18n/x.js", "'help': 'Video clips (mp4, webm, mov).',")):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert len(second_lists(tmp_path)) == 3
