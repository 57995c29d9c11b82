"""The start-time tokenizer check and the Hugging Face environment of every stage (issue 11 §3), through the
HTTP API with the stand-in trainer: a local server stands for the download server (mirror) setting."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from server.training import hub_tokenizers, task_types
from tests import hub_cache
from tests.local_http import LocalHTTPServer

from .conftest import add_dataset, point_at_standin, qwen_task


class Mirror(BaseHTTPRequestHandler):
    """Answers for the Qwen-Image tokenizer only, like a mirror that has that repository."""
    asked: list[str] = []

    def do_HEAD(self):
        Mirror.asked.append(self.path)
        self.send_response(200 if self.path.startswith("/Qwen/Qwen-Image/resolve/main/tokenizer/") else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_every_task_type_and_variant_has_its_tokenizers_as_data():
    assert set(hub_tokenizers.TOKENIZERS) == set(task_types.TASK_TYPES)
    for ttype in task_types.TASK_TYPES.values():
        for variant in ttype.variants:
            if hub_tokenizers.needed(ttype.id, variant.key):
                continue
            # None from the hub only where every text encoder is a model folder that holds its tokenizer
            # (Kandinsky 5: Qwen2.5-VL and CLIP from the folders given).
            encoders = [m for m in ttype.models if "cache_text_encoder" in m.flags]
            assert encoders and all(m.folder_ok for m in encoders), (ttype.id, variant.key)
    assert [t.repo for t in hub_tokenizers.needed("flux2-lora", "klein-9b")] == ["Qwen/Qwen3-8B"]


def test_missing_unreachable_tokenizer_refuses_the_start(api, svc, models, monkeypatch):
    point_at_standin(svc.store)
    add_dataset(svc)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # nothing cached: the stand-in's seeded cache is taken away again
    import shutil
    shutil.rmtree(svc.layout.root / "huggingface")
    task = api.post("/api/tasks", json=qwen_task(models)).get_json()["task"]
    r = api.post(f"/api/tasks/{task['id']}/start")
    assert r.status_code == 422, r.get_json()
    err = r.get_json()["error"]
    assert err["code"] == "tokenizer_unavailable"
    assert err["details"]["tokenizer"] == "Qwen/Qwen-Image/tokenizer" and "Download server" in err["message"]
    assert api.get(f"/api/tasks/{task['id']}").get_json()["task"]["status"] == "draft"

    # once cached (a first run on a connected machine), the same start goes ahead
    hub_cache.seed(svc.layout.root)
    assert api.post(f"/api/tasks/{task['id']}/start").status_code == 200
    done = svc.supervisor.wait(task["id"], timeout=60)
    assert done["status"] == "done", done["error"]
    for stage in done["run"]["stages"]:
        assert stage["env"]["HF_HOME"] == str(svc.layout.root / "huggingface")
        assert stage["env"]["HF_ENDPOINT"] == "https://huggingface.co"


def test_a_reachable_mirror_lets_musubi_download_it(api, svc, models, monkeypatch):
    point_at_standin(svc.store)
    add_dataset(svc)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    import shutil
    shutil.rmtree(svc.layout.root / "huggingface")
    with LocalHTTPServer(Mirror) as mirror:
        assert api.patch("/api/settings", json={"tagging_hf_endpoint": mirror.root}).status_code == 200
        task = api.post("/api/tasks", json=qwen_task(models)).get_json()["task"]
        assert api.post(f"/api/tasks/{task['id']}/start").status_code == 200, "reachable: musubi downloads it"
        done = svc.supervisor.wait(task["id"], timeout=60)
        assert {s["env"]["HF_ENDPOINT"] for s in done["run"]["stages"]} == {mirror.root}
        assert "/Qwen/Qwen-Image/resolve/main/tokenizer/tokenizer_config.json" in Mirror.asked
        # the mirror lacks the Edit processor: Qwen-Image-Edit is refused, naming it
        assert hub_tokenizers.cached(svc.layout.root / "huggingface", hub_tokenizers.TOKENIZERS["qwen-image-lora"][0]) \
            is False
        try:
            hub_tokenizers.check(svc.store, svc.layout, "qwen-image-edit-lora")
        except Exception as exc:  # noqa: BLE001
            assert getattr(exc, "code", None) == "tokenizer_unavailable"
            assert exc.details["tokenizer"] == "Qwen/Qwen-Image-Edit/processor"
        else:
            raise AssertionError("Qwen-Image-Edit's processor is on no server and not cached")
