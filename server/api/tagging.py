"""Auto-tagging API: backends and presets, test, model download, and tagging a dataset.

Every long action is a job (see server/jobs): the route answers 202 `{"job": {...}}` at once;
follow it on the websocket topic `job:<id>` (or GET /api/jobs/<id>) and cancel it with
POST /api/jobs/<id>/cancel. Errors are the usual `{"error": {code, message, details}}`.

GET  /api/tagging/backends
    -> {"backends": [{name, label, output_kind ("tags"|"text"), media (["image","video"]),
                      options: [{name, setting, default}]}],
        "presets": [{name, label, base_url, models[], needs_key, local, token_field, notes, key_url}],
        "modes": ["only_empty", "append", "overwrite"],
        "wd14": {"known_repos": [...], "downloaded": [{repo, path}], "providers": ["CUDAExecutionProvider"?,
                 "CPUExecutionProvider"] or [] when onnxruntime is missing}}
    Option `setting` names the key in /api/settings that holds its saved value (e.g. option
    `base_url` of `openai_api` <- setting `tagging_api_base_url`). Choosing a preset in the UI means
    writing its base_url (and a model) into tagging_api_base_url / tagging_api_model and its name
    into tagging_api_preset. The API key (tagging_api_key) is a secret: GET /api/settings shows it
    masked ("••••••abcd"); sending the masked value back keeps the saved key.

GET  /api/tagging/models
    -> {"models_dir": "<data>/models/taggers", "downloaded": [{repo, path}], "known_repos": [...]}

POST /api/tagging/models/download   {"repo": "SmilingWolf/wd-vit-tagger-v3"}  (default: setting tagging_wd14_repo)
    -> 202 {"job"}; kind "tagger_download"; progress done/total are BYTES; message names the file.
    Files go to <data>/models/taggers/<owner>/<name>/ from <tagging_hf_endpoint>/<repo>/resolve/main/<file>.
    Job result: {repo, path, files}. Errors: bad_repo_id (422), model_not_found, download_failed.

POST /api/tagging/test   {"backend"?: "wd14"|"openai_api"|"musubi_qwen_vl", "options"?: {...},
                          "dataset_id"?: "ds_...", "item_id"?: 12}
    Loads the backend once (downloading a missing WD14 model first) and captions one sample: the
    given dataset item, else a generated picture. `options` override saved settings by option name
    (unsaved form values can be tested). -> 202 {"job"}; kind "tagging_test". Job result:
    {"ok": true, "caption", "backend", "sample", "elapsed_s", + per backend: openai_api {model, base_url,
    seconds}, wd14 {providers, input_size, tag_count, model_folder, load_seconds, seconds}}
    or {"ok": false, "error": {code, message}, "backend", ...} (e.g. unauthorized, unreachable,
    api_key_missing, model_files_missing, musubi_script_missing).

POST /api/datasets/<dataset_id>/autotag
    {"backend"?: name (default setting tagging_backend),
     "options"?: {...overrides by option name, as for /test},
     "target"?: {"ids": [..]} | {"names": [..]} | {"filter": {...}} | {"all": true}   (default all),
     "mode"?: "overwrite" | "append" | "only_empty"   (default setting tagging_mode),
     "trigger"?: "ohwx"        (fills {trigger} in prompt templates),
     "prefix_trigger"?: bool   (default: true when a trigger is given; puts it first in every caption),
     "strip"?: true, "dedupe"?: true, "blacklist"?: ["watermark", ...] (default setting tagging_blacklist)}
    -> 202 {"job"}; kind "autotag", owner "dataset:<id>"; 409 job_busy when one already runs there.
    While it runs: `job:<id>` gets "job" updates (done/total items, message "12/40 · 2.10 items/s · 14 s left"),
    "tagging_progress" {done, total, rate, eta_s} and "tagging_item" {name, ok, changed, caption} or
    {name, ok: false, code, message}; `dataset:<id>` gets "item_updated" for each caption written and
    "history" when the run's undo step is recorded. Job result: {dataset_id, backend, mode, targeted,
    processed, changed, skipped, failed, errors: [{name, code, message}], step_id, cancelled, rate}.
    The whole run is ONE undo step ("Auto-tag (WD14)"): POST /api/datasets/<id>/undo takes it back.
"""

from __future__ import annotations

import dataclasses

from flask import Blueprint

from ..errors import json_body
from ..services import services
from ..tagging import backend_jobs, hub
from ..tagging.job import start_tagging
from ..tagging.postprocess import MODES
from ..tagging.presets import PRESETS
from ..tagging.registry import BACKENDS

bp = Blueprint("tagging", __name__)


def _describe(cls) -> dict:
    options = [{"name": f.name, "setting": f.metadata.get("setting"),
                "default": None if f.metadata.get("setting") == "tagging_api_key" else _default(f)}
               for f in dataclasses.fields(cls.Options)]
    return {**cls.describe(), "options": options}


def _default(f):
    if f.default is not dataclasses.MISSING:
        return f.default
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else None


def _providers() -> list[str]:
    try:
        from ..tagging.wd14 import execution_providers  # noqa: PLC0415

        return execution_providers()
    except ImportError:
        return []


@bp.get("/tagging/backends")
def list_backends():
    svc = services()
    return {
        "backends": [_describe(cls) for cls in BACKENDS.values()],
        "presets": [p.to_dict() for p in PRESETS.values()],
        "modes": list(MODES),
        "wd14": {"known_repos": list(hub.KNOWN_WD14_REPOS), "downloaded": hub.downloaded_models(svc.layout.models),
                 "providers": _providers()},
    }


@bp.get("/tagging/models")
def list_models():
    svc = services()
    return {"models_dir": str(hub.taggers_dir(svc.layout.models)),
            "downloaded": hub.downloaded_models(svc.layout.models), "known_repos": list(hub.KNOWN_WD14_REPOS)}


@bp.post("/tagging/models/download")
def download_model():
    return {"job": backend_jobs.start_download(services(), json_body())}, 202


@bp.post("/tagging/test")
def test_backend():
    return {"job": backend_jobs.start_test(services(), json_body())}, 202


@bp.post("/datasets/<dataset_id>/autotag")
def autotag(dataset_id: str):
    return {"job": start_tagging(services(), dataset_id, json_body())}, 202
