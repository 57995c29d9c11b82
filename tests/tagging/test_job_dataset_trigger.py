"""The tagging job and the dataset: the dataset's trigger word is the default trigger (prompt `{trigger}`
and caption prefix), and the run is recorded as an undo step with op "autotag" and params {backend}."""

from __future__ import annotations

from .chat_server import ChatServer
from .test_job_api import KEY, caption, make_dataset, run


def test_dataset_trigger_word_fills_the_prompt_and_the_step_is_autotag(api, svc):
    ds_id = make_dataset(svc, {"a.png": (10, 20, 30), "b.png": (30, 20, 10)})
    assert api.patch(f"/api/datasets/{ds_id}", json={"trigger_word": "sks cat"}).status_code == 200
    with ChatServer(caption="A small square.") as server:
        api.patch("/api/settings", json={"tagging_api_base_url": server.base_url, "tagging_api_key": KEY,
                                         "tagging_api_preset": "custom", "tagging_api_model": "vl-test",
                                         "tagging_api_prompt": "Caption it.\nName the subject {trigger}."})
        job = run(api, svc, ds_id, {"backend": "openai_api", "mode": "overwrite"})  # no trigger sent
        assert job["status"] == "done", job
        assert job["params"]["trigger"] == "sks cat"
        for req in server.requests:
            assert req["body"]["messages"][0]["content"][0]["text"] == "Caption it.\nName the subject sks cat."
        assert caption(svc, ds_id, "a.png") == "sks cat, A small square."

        # a trigger sent with the run wins ("" = none) for that run only; the dataset keeps its word
        server.requests.clear()
        job = run(api, svc, ds_id, {"backend": "openai_api", "mode": "overwrite", "trigger": ""})
        assert job["status"] == "done", job
        assert server.requests[0]["body"]["messages"][0]["content"][0]["text"] == "Caption it."
        job = run(api, svc, ds_id, {"backend": "openai_api", "mode": "overwrite", "trigger": " ohwx "})
        assert api.get(f"/api/datasets/{ds_id}").get_json()["dataset"]["trigger_word"] == "sks cat"
        assert caption(svc, ds_id, "b.png") == "ohwx, A small square."

    history = api.get(f"/api/datasets/{ds_id}/history").get_json()
    assert [(s["op"], s["params"], s["kind"]) for s in history["steps"]] == [
        ("autotag", {"backend": "openai_api"}, "autotag")] * 3
    assert history["undo"]["label"] == "Auto-tag (API)"
