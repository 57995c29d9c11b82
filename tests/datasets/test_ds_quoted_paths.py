"""Paths pasted from Explorer's "Copy as path" arrive in double quotes: they are taken as the path."""

from ds_helpers import make_image

from server.paths import user_path


def test_user_path_drops_the_quotes_and_blanks():
    assert user_path('"C:\\Users\\Li Wei\\Pictures\\set 1"') == "C:\\Users\\Li Wei\\Pictures\\set 1"
    assert user_path('  "D:\\models\\flux.safetensors"\n') == "D:\\models\\flux.safetensors"
    assert user_path("'/home/li/pics'") == "/home/li/pics"
    assert user_path('"') == '"' and user_path('""') == "" and user_path("") == ""
    assert user_path('C:\\a "b" c') == 'C:\\a "b" c'  # quotes inside are part of the name


def test_import_a_quoted_folder(ds, src):
    make_image(src / "a.png")
    r = ds.api.post(f"{ds.base}/import", json={"source": "folder", "path": f'"{src}"'})
    assert r.status_code == 202, r.get_json()
    job = ds.svc.jobs.wait(r.get_json()["job"]["id"])
    assert job["status"] == "done", job
    assert (ds.media / "a.png").is_file()


def test_quoted_trainer_folder_and_model_path(api, tmp_path):
    folder = tmp_path / "musubi tuner"
    r = api.patch("/api/settings", json={"musubi_dir": f'"{folder}"'})
    assert r.status_code == 200, r.get_json()
    assert api.get("/api/settings").get_json()["settings"]["musubi_dir"] == str(folder)
    model = tmp_path / "my model.safetensors"
    checked = api.post("/api/models/check", json={"path": f'"{model}"'}).get_json()
    assert [p["code"] for p in checked["problems"]] == ["not_found"]  # looked for the file, not "not absolute"
