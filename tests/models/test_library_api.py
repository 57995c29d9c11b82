"""The model library API: roles derived from the task table, stored paths, defaults for the task form."""

from __future__ import annotations

from server.training.task_types import TASK_TYPES
from tests.models.helpers import qwen_dit, qwen_vae


def test_library_covers_every_role_of_the_task_table(api):
    body = api.get("/api/models/library").get_json()
    assert body["native_dialog"] is False
    got = {(t["id"], r["role"]) for t in body["types"] for r in t["roles"]}
    want = {(t.id, m.key) for t in TASK_TYPES.values() for m in t.models}
    assert got == want
    types = {t["id"]: t for t in body["types"]}
    edit_roles = {r["role"]: r for r in types["qwen-image-edit-lora"]["roles"]}
    # the edit DiTs differ per variant, the VAE / text encoder are Qwen-Image's
    assert edit_roles["dit"]["per_variant"] and edit_roles["dit"]["shared"] is None
    assert edit_roles["vae"]["shared"]["slot"] == "qwen-image-lora.vae"
    wan21 = {r["role"]: r for r in types["wan2.1-lora"]["roles"]}
    assert wan21["t5"]["shared"]["slot"] == "wan2.2-lora.t5"
    assert wan21["clip"]["variants"] == ["i2v-14B"]


def test_paths_checks_and_defaults(api, tmp_path):
    dit = qwen_dit(tmp_path / "qwen_image_bf16.safetensors")
    bad = qwen_dit(tmp_path / "qwen_image_fp8_e4m3fn_scaled.safetensors", fp8_scaled=True)
    vae = qwen_vae(tmp_path / "vae.safetensors")
    r = api.patch("/api/models/library", json={"qwen-image-lora.dit": str(dit), "qwen-image-lora.vae": str(vae),
                                               "qwen-image-edit-lora@edit-2511.dit": str(bad)})
    assert r.status_code == 200, r.get_json()
    types = {t["id"]: {x["role"]: x for x in t["roles"]} for t in r.get_json()["types"]}
    assert types["qwen-image-lora"]["dit"]["shared"]["check"]["status"] == "ok"
    assert types["qwen-image-lora"]["dit"]["shared"]["check"]["summary"]["tensor_count"] == 6
    edit_dit = types["qwen-image-edit-lora"]["dit"]["by_variant"]["edit-2511"]
    assert edit_dit["check"]["status"] == "error" and edit_dit["check"]["problems"][0]["code"] == "qwen_fp8_dit"
    # the shared VAE shows under Qwen-Image-Edit too
    assert types["qwen-image-edit-lora"]["vae"]["shared"]["path"] == str(vae)

    d = api.get("/api/models/defaults?task_type=qwen-image-lora").get_json()
    assert d["variant"] == "original" and d["models"] == {"dit": str(dit), "vae": str(vae)}
    d = api.get("/api/models/defaults?task_type=qwen-image-edit-lora&variant=edit-2511&check=1").get_json()
    assert d["models"] == {"dit": str(bad), "vae": str(vae)}
    assert d["checks"]["dit"]["status"] == "error"
    assert api.get("/api/models/defaults?task_type=qwen-image-edit-lora&variant=edit").get_json()["models"] == {
        "vae": str(vae)}
    # a variant may override a shared role
    other_vae = qwen_vae(tmp_path / "vae2.safetensors")
    api.patch("/api/models/library", json={"qwen-image-edit-lora@edit.vae": str(other_vae)})
    d = api.get("/api/models/defaults?task_type=qwen-image-edit-lora&variant=edit").get_json()
    assert d["models"]["vae"] == str(other_vae) and d["sources"]["vae"] == "qwen-image-edit-lora@edit.vae"
    everything = api.get("/api/models/defaults").get_json()["defaults"]
    assert everything["qwen-image-lora"]["original"]["dit"] == str(dit)
    # "" removes
    api.patch("/api/models/library", json={"qwen-image-lora.dit": ""})
    assert "dit" not in api.get("/api/models/defaults?task_type=qwen-image-lora").get_json()["models"]
    # stored as a setting
    assert "qwen-image-lora.vae" in api.get("/api/settings").get_json()["settings"]["model_library"]


def test_bad_requests(api, tmp_path):
    r = api.patch("/api/models/library", json={"nope.dit": "/x.safetensors"})
    assert r.status_code == 422 and "nope.dit" in r.get_json()["error"]["message"]
    r = api.patch("/api/models/library", json={"qwen-image-lora.dit": "relative/x.safetensors"})
    assert r.status_code == 422
    assert api.get("/api/models/defaults?task_type=nope").status_code == 404
    assert api.get("/api/models/defaults?task_type=qwen-image-lora&variant=zzz").status_code == 404
    r = api.post("/api/models/check", json={"path": str(tmp_path / "missing.safetensors"), "task_type": "qwen-image-lora",
                                            "role": "dit"})
    assert r.status_code == 200 and r.get_json()["problems"][0]["code"] == "not_found"


def test_file_picker_uses_the_window_dialog(api, svc, tmp_path):
    assert api.post("/api/models/pick-file", json={}).status_code == 409

    class Window:
        calls = []

        def create_file_dialog(self, dialog_type, **kw):
            self.calls.append((dialog_type, kw))
            return (str(tmp_path / "chosen.safetensors"),)

    svc.window = Window()
    r = api.post("/api/models/pick-file", json={"kind": "model", "initial": str(tmp_path / "x.safetensors")})
    assert r.get_json() == {"path": str(tmp_path / "chosen.safetensors")}
    import webview

    dialog_type, kw = Window.calls[0]
    assert dialog_type == webview.FileDialog.OPEN
    assert kw["directory"] == str(tmp_path) and "Safetensors (*.safetensors)" in kw["file_types"]
    api.post("/api/models/pick-file", json={"kind": "folder"})
    assert Window.calls[1][0] == webview.FileDialog.FOLDER


def test_native_dialog_flag_and_pick_file_for_the_task_form(api, svc, tmp_path):
    """The create-task form's "Browse…" buttons show only when GET /api/models/library says native_dialog.

    Seam: svc.window stands in for the pywebview window of the app (None in a plain browser). A fake object
    whose create_file_dialog returns a chosen path replaces it here; the real dialog cannot run in tests."""
    assert api.get("/api/models/library?check=0").get_json()["native_dialog"] is False
    r = api.post("/api/models/pick-file", json={"kind": "model"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "no_native_dialog"

    chosen = tmp_path / "flux2_dev.safetensors"

    class FakeWindow:
        def create_file_dialog(self, dialog_type, **kw):
            return [str(chosen)]

    svc.window = FakeWindow()
    try:
        assert api.get("/api/models/library?check=0").get_json()["native_dialog"] is True
        r = api.post("/api/models/pick-file", json={"kind": "model", "initial": ""})
        assert r.status_code == 200 and r.get_json() == {"path": str(chosen)}
        svc.window.create_file_dialog = lambda *a, **kw: None     # the user cancelled
        assert api.post("/api/models/pick-file", json={"kind": "model"}).get_json() == {"path": None}
    finally:
        svc.window = None


def test_variant_override_of_a_shared_role(api, tmp_path):
    """FLUX.2 dev and klein take different text encoders: `flux2-lora@klein-4b.text_encoder` wins for klein-4b."""
    shared = tmp_path / "mistral.safetensors"
    klein = tmp_path / "qwen3_4b.safetensors"
    r = api.patch("/api/models/library", json={"flux2-lora.text_encoder": str(shared),
                                               "flux2-lora@klein-4b.text_encoder": str(klein)})
    assert r.status_code == 200, r.get_json()
    te = next(x for t in r.get_json()["types"] if t["id"] == "flux2-lora" for x in t["roles"]
              if x["role"] == "text_encoder")
    assert te["shared"]["path"] == str(shared)
    assert te["by_variant"]["klein-4b"]["path"] == str(klein)
    assert te["by_variant"]["klein-4b"]["check"]["problems"][0]["code"] == "not_found"   # checked like any slot
    d = api.get("/api/models/defaults?task_type=flux2-lora&variant=klein-4b").get_json()
    assert d["models"]["text_encoder"] == str(klein) and d["sources"]["text_encoder"] == "flux2-lora@klein-4b.text_encoder"
    d = api.get("/api/models/defaults?task_type=flux2-lora&variant=dev").get_json()
    assert d["models"]["text_encoder"] == str(shared)
