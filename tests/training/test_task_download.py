"""A task's files as downloads (server mode's "open file / show in folder"): only inside the task."""

from __future__ import annotations

import io
import zipfile

from server.training import tasks

from .conftest import add_dataset, qwen_task


def test_task_files_download_inside_the_task_only(api, svc, models):
    add_dataset(svc)
    task = api.post("/api/tasks", json=qwen_task(models)).get_json()["task"]
    folder = tasks.paths(svc.layout, task["id"])
    (folder.output / "Cat_LoRA.safetensors").write_bytes(b"weights")
    base = f"/api/tasks/{task['id']}/download"
    resp = api.get(base, query_string={"path": "output/Cat_LoRA.safetensors"})
    assert resp.status_code == 200 and resp.data == b"weights"
    assert "Cat_LoRA.safetensors" in resp.headers["Content-Disposition"]
    whole = api.get(base, query_string={"path": "output"})
    assert zipfile.ZipFile(io.BytesIO(whole.data)).read("output/Cat_LoRA.safetensors") == b"weights"
    assert api.get(base, query_string={"path": "../../"}).status_code == 422
    assert api.get(base, query_string={"path": "output/none.bin"}).status_code == 404
    assert api.get("/api/tasks/task_nothere/download").status_code == 404
