"""Model download: the Hugging Face URL scheme served by a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import pytest
from PIL import Image

from server.paths import DataLayout
from server.tagging import hub
from server.tagging.base import Item, TaggingError
from server.tagging.config import build_options
from server.tagging.wd14 import Wd14Backend, Wd14Options

from .file_server import FileServer
from .tiny_wd14 import build_model_dir

REPO = "SmilingWolf/wd-tiny-tagger-v3"


@pytest.fixture
def hf(tmp_path):
    build_model_dir(tmp_path / "hf" / REPO)
    with FileServer(tmp_path / "hf") as server:
        yield server


def test_download_writes_both_files_with_progress(hf, tmp_path):
    calls = []
    dest = hub.repo_dir(tmp_path / "models", REPO)
    hub.download_repo(hf.endpoint, REPO, dest, progress=lambda d, t, m: calls.append((d, t, m)))
    for name in hub.WD14_FILES:
        assert (dest / name).read_bytes() == (tmp_path / "hf" / REPO / name).read_bytes()
    total = sum((dest / n).stat().st_size for n in hub.WD14_FILES)
    assert calls[-1][:2] == (total, total) and all(t == total for _, t, _ in calls)
    assert [d for d, _, _ in calls] == sorted(d for d, _, _ in calls)
    assert not list(dest.glob("*.part"))
    assert hub.downloaded_models(tmp_path / "models") == [{"repo": REPO, "path": str(dest)}]


def test_unknown_repo_and_bad_ids(hf, tmp_path):
    with pytest.raises(TaggingError) as err:
        hub.download_repo(hf.endpoint, "SmilingWolf/missing", tmp_path / "x")
    assert err.value.code == "model_not_found"
    assert not list((tmp_path / "x").glob("*"))
    for bad in ("../etc", "a/b/c", "noslash", "a/..", ""):
        with pytest.raises(TaggingError):
            hub.repo_dir(tmp_path, bad)


def test_unreachable_endpoint_is_reported(tmp_path):
    with pytest.raises(TaggingError) as err:
        hub.download_repo("http://127.0.0.1:9", REPO, tmp_path / "x", timeout=5)
    assert err.value.code == "download_failed" and "online" in err.value.message


def test_backend_prepare_downloads_then_tags(hf, tmp_path):
    layout = DataLayout(tmp_path / "data").ensure()
    opts = build_options(Wd14Options, None, {"repo": REPO, "hf_endpoint": hf.endpoint})
    b = Wd14Backend(opts, layout=layout)
    b.prepare()
    assert b.model_folder == layout.models / "taggers" / "SmilingWolf" / "wd-tiny-tagger-v3"
    Image.new("RGB", (40, 40), (255, 0, 0)).save(tmp_path / "r.png")
    result = b.test(Item.from_path(tmp_path / "r.png"))
    assert result["caption"].startswith("red background, hatsune miku")
    assert result["providers"] == ["CPUExecutionProvider"] and result["input_size"] == 32
