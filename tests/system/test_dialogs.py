"""The native file dialog's filters are ones pywebview accepts, on every OS (a bad one was a 500)."""

from __future__ import annotations

import pytest
from webview.util import parse_file_type

from server.system import dialogs


@pytest.mark.parametrize("platform", ["win32", "linux", "darwin"])
@pytest.mark.parametrize("kind", dialogs.KINDS)
def test_every_filter_parses(kind, platform):
    filters = dialogs.file_types(kind, platform)
    assert filters
    for f in filters:
        parse_file_type(f)  # raises ValueError as pywebview's create_file_dialog would


def test_python_filter_per_platform():
    assert parse_file_type(dialogs.file_types("python", "win32")[0]) == ("Python", "*.exe")
    # python3 has no extension elsewhere: only "everything" can show it (`*`, not `*.*`)
    assert [parse_file_type(f)[1] for f in dialogs.file_types("python", "linux")] == ["*"]


def test_pick_python_answers_a_path(api, svc, tmp_path):
    """Through the API, with a window that checks the filters exactly as pywebview's Window does."""
    chosen = tmp_path / "python.exe"
    seen = []

    class Window:
        def create_file_dialog(self, dialog_type, directory="", allow_multiple=False, save_filename="",
                               file_types=()):
            for f in file_types:
                parse_file_type(f)
            seen.append(file_types)
            return (str(chosen),)

    svc.window = Window()
    try:
        r = api.post("/api/models/pick-file", json={"kind": "python", "initial": str(tmp_path)})
    finally:
        svc.window = None
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"path": str(chosen)} and seen == [dialogs.file_types("python")]
