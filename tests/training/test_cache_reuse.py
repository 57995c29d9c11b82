"""Cache reuse follows what each cache depends on (cache_state.py): musubi's --skip_existing would keep
any cache file that exists, so stale ones are deleted first, per item where only that item changed."""

from __future__ import annotations

import os
from pathlib import Path

from server.training import cache_state, tasks
from server.training.dataset_source import DatasetSource

from .conftest import qwen_task

LATENTS, TE = "cache_latents", "cache_text_encoder"


class World:
    """A dataset folder, model files and a cache folder, all real files in a tmp dir."""

    def __init__(self, root: Path, type_: str = "image", stems=("a", "b", "c")):
        self.media, self.control, self.cache = root / "media", root / "control", root / "cache"
        for folder in (self.media, self.control, self.cache, root / "models"):
            folder.mkdir(parents=True)
        self.source = DatasetSource("ds_1", "Cats", type_, self.media, self.control)
        self.vae, self.te = root / "models" / "vae.safetensors", root / "models" / "te.safetensors"
        self.vae.write_bytes(b"vae")
        self.te.write_bytes(b"te")
        for stem in stems:
            (self.media / f"{stem}.png").write_bytes(b"png " + stem.encode())
            (self.media / f"{stem}.txt").write_text(f"a photo of {stem}", encoding="utf-8")
            if type_ == "image_control":
                (self.control / f"{stem}.png").write_bytes(b"control")
        self.toml = "resolution = [1024, 1024]"
        self.fp8 = False

    def argv(self, stage):
        if stage == LATENTS:
            return ["py", "cache.py", "--dataset_config", "d.toml", "--vae", str(self.vae), "--skip_existing"]
        return ["py", "te.py", "--dataset_config", "d.toml", "--text_encoder", str(self.te),
                *(["--fp8_vl"] if self.fp8 else []), "--skip_existing"]

    def manifest(self, stage, reads_control=False):
        return cache_state.manifest(stage, self.argv(stage), self.toml, self.source, ".txt", reads_control)

    def cache_all(self, reads_control=False):
        """What a successful run of both stages leaves: cache files and recorded manifests."""
        for stem in ("a", "b", "c"):
            (self.cache / f"{stem}_1024x0768_qi.safetensors").write_bytes(b"latent")
            (self.cache / f"{stem}_qi_te.safetensors").write_bytes(b"te")
        for stage in (LATENTS, TE):
            cache_state.record(self.cache, stage, self.manifest(stage, reads_control))

    def drop(self, stage, reads_control=False) -> list[str]:
        return sorted(p.name for p in cache_state.drop_stale(self.cache, stage, self.manifest(stage, reads_control)))


def touch_later(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def test_unchanged_inputs_keep_every_cache(tmp_path):
    w = World(tmp_path)
    w.cache_all()
    assert w.drop(LATENTS) == [] and w.drop(TE) == []
    assert cache_state.is_fresh(w.cache, LATENTS, w.manifest(LATENTS))


def test_a_changed_caption_drops_only_that_items_text_encoder_cache(tmp_path):
    w = World(tmp_path)
    w.cache_all()
    (w.media / "b.txt").write_text("a photo of a dog", encoding="utf-8")
    assert w.drop(LATENTS) == []
    assert w.drop(TE) == ["b_qi_te.safetensors"]
    assert not cache_state.is_fresh(w.cache, TE, w.manifest(TE))


def test_a_changed_image_drops_only_its_latents(tmp_path):
    w = World(tmp_path)
    w.cache_all()
    (w.media / "c.png").write_bytes(b"another picture")
    assert w.drop(LATENTS) == ["c_1024x0768_qi.safetensors"] and w.drop(TE) == []


def test_a_changed_model_option_or_resolution_drops_the_whole_stage(tmp_path):
    w = World(tmp_path)
    w.cache_all()
    touch_later(w.vae)  # a new VAE file under the same name
    assert w.drop(LATENTS) == [f"{s}_1024x0768_qi.safetensors" for s in "abc"] and w.drop(TE) == []
    w.cache_all()
    w.fp8 = True  # the text encoder now runs in fp8
    assert w.drop(TE) == [f"{s}_qi_te.safetensors" for s in "abc"]
    w.fp8 = False
    w.cache_all()
    w.toml = "resolution = [768, 768]"
    assert len(w.drop(LATENTS)) == 3 and len(w.drop(TE)) == 3


def test_control_images_reach_the_text_encoder_cache_only_where_the_encoder_sees_them(tmp_path):
    w = World(tmp_path, "image_control")
    w.cache_all(reads_control=True)
    (w.control / "a.png").write_bytes(b"new control")
    assert w.drop(LATENTS, True) == ["a_1024x0768_qi.safetensors"]
    assert w.drop(TE, True) == ["a_qi_te.safetensors"]  # Qwen-Image-Edit encodes the control with the prompt
    w.cache_all(reads_control=False)
    (w.control / "b.png").write_bytes(b"new control")
    assert w.drop(TE, False) == []


def test_unknown_provenance_drops_everything(tmp_path):
    w = World(tmp_path)
    w.cache_all()
    (w.cache / ".workbench-cache_text_encoder.json").write_text('{"fingerprint": "0123abcd"}', encoding="utf-8")
    assert len(w.drop(TE)) == 3 and w.drop(LATENTS) == []
    # A cache of an item that is not on record (written by a run that stopped) is not trusted either.
    (w.media / "d.png").write_bytes(b"png d")
    (w.media / "d.txt").write_text("d", encoding="utf-8")
    (w.cache / "d_0512x0512_qi.safetensors").write_bytes(b"latent")
    assert w.drop(LATENTS) == ["d_0512x0512_qi.safetensors"]


def test_cache_names_map_to_their_item():
    assert cache_state._stem_of("img_1_0064x0064_qie.safetensors", LATENTS) == "img_1"
    assert cache_state._stem_of("clip0_00000-005_0064x0064_wan.safetensors", LATENTS) == "clip0"
    assert cache_state._stem_of("a_1_f2k4b_te.safetensors", TE) == "a_1"
    assert cache_state._stem_of("a_1_f2k4b_te.safetensors", LATENTS) is None
    assert cache_state._stem_of("a_0064x0064_zi.safetensors", TE) is None


def test_a_rerun_recaches_a_changed_caption_instead_of_reusing_it(trainer, models):
    """Through the app with the stand-in trainer, which (like musubi) skips existing cache files."""
    svc = trainer
    task = tasks.create(svc.store, svc.layout, qwen_task(models, epochs=1, samples=False))
    svc.supervisor.enqueue(task["id"])
    assert svc.supervisor.wait(task["id"], timeout=30)["status"] == "done"
    cache = tasks.paths(svc.layout, task["id"]).cache
    # Mark both text-encoder caches, then change one caption.
    (cache / "img0_qi_te.safetensors").write_bytes(b"stale")
    (cache / "img1_qi_te.safetensors").write_bytes(b"kept")
    (svc.layout.datasets / "ds_0000c0de" / "media" / "img0.txt").write_text("new caption", encoding="utf-8")
    svc.supervisor.enqueue(task["id"])
    assert svc.supervisor.wait(task["id"], timeout=30)["status"] == "done"
    assert (cache / "img0_qi_te.safetensors").read_bytes() == b"cache"  # encoded again
    assert (cache / "img1_qi_te.safetensors").read_bytes() == b"kept"   # still right: skipped


def test_a_stale_cache_that_cannot_be_deleted_stops_the_start(tmp_path, monkeypatch):
    """Windows cannot delete a file another program has open; left there, --skip_existing would reuse it."""
    import pytest

    from server.errors import ApiError

    w = World(tmp_path)
    w.cache_all()
    (w.media / "a.txt").write_text("changed", encoding="utf-8")
    real_unlink = Path.unlink

    def locked(self, missing_ok=False):
        if self.name == "a_qi_te.safetensors":
            raise PermissionError(13, "The process cannot access the file")
        return real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", locked)
    with pytest.raises(ApiError) as err:
        w.drop(TE)
    assert err.value.code == "stale_cache_locked" and err.value.details["files"] == [str(w.cache / "a_qi_te.safetensors")]
