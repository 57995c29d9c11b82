"""FramePack caches a video per section (`clip0_00000-073-0001_0064x0064_fp.safetensors`, the names the real run of
tests/realtrainer/test_framepack.py shows): cache reuse must map those files to their clip like every other cache,
or each rerun whose latent stage is not fresh deletes every clip's sections and encodes them all again."""

from __future__ import annotations

from server.training import cache_state
from server.training.dataset_source import DatasetSource

LATENTS = "cache_latents"


def test_section_caches_map_to_their_clip():
    assert cache_state._stem_of("clip0_00000-037-0000_0064x0064_fp.safetensors", LATENTS) == "clip0"
    assert cache_state._stem_of("my_clip_2_00000-073-0001_0640x0640_fp.safetensors", LATENTS) == "my_clip_2"
    assert cache_state._stem_of("clip0_00000-037-0000_0064x0064_fp.safetensors", "cache_text_encoder") is None


def test_a_new_clip_keeps_the_other_clips_sections(tmp_path):
    media, cache = tmp_path / "media", tmp_path / "cache"
    media.mkdir()
    cache.mkdir()
    source = DatasetSource("ds_1", "Clips", "video", media, tmp_path / "control")
    argv = ["py", "fpack_cache_latents.py", "--dataset_config", "d.toml", "--vae", "vae.safetensors"]
    for stem in ("a", "b"):
        (media / f"{stem}.mp4").write_bytes(b"mp4 " + stem.encode())
        (media / f"{stem}.txt").write_text(f"clip {stem}", encoding="utf-8")
    kept = [f"{stem}_00000-073-000{i}_0064x0064_fp.safetensors" for stem in ("a", "b") for i in (0, 1)]
    for name in kept:
        (cache / name).write_bytes(b"section")
    cache_state.record(cache, LATENTS, cache_state.manifest(LATENTS, argv, "toml", source, ".txt"))

    (media / "c.mp4").write_bytes(b"mp4 c")
    (media / "c.txt").write_text("clip c", encoding="utf-8")
    (cache / "c_00000-037-0000_0064x0064_fp.safetensors").write_bytes(b"from a run that stopped")
    current = cache_state.manifest(LATENTS, argv, "toml", source, ".txt")
    assert not cache_state.is_fresh(cache, LATENTS, current)
    dropped = cache_state.drop_stale(cache, LATENTS, current)
    assert [p.name for p in dropped] == ["c_00000-037-0000_0064x0064_fp.safetensors"]
    assert sorted(p.name for p in cache.glob("*.safetensors")) == kept
