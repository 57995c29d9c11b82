"""Windows' 260-character limit: setting the trainer up in a deep folder is warned about beforehand."""

from __future__ import annotations

import sys

import pytest

from server.system import longpaths

SHORT = "C:\\LoRA\\musubi-tuner"
# The executable unpacked from a download into a folder named after the archive, under a long user name.
DEEP = ("C:\\Users\\zhang.xiaoming.design-studio\\Downloads\\LoRA-Workbench-0.1.0-windows-x64-portable\\"
        "LoRA-Workbench-0.1.0\\musubi-tuner")


def test_deep_trainer_folder_without_long_paths_is_warned():
    assert len(DEEP) > longpaths.MAX_PATH - longpaths.DEEPEST_BELOW_TRAINER
    [problem] = longpaths.trainer_dir_problems(DEEP, enabled=False)
    assert problem["code"] == "long_paths_disabled" and problem["severity"] == "warning"
    assert problem["field"] == "musubi_dir" and problem["length"] == len(DEEP)
    assert "LongPathsEnabled" in problem["action"]


def test_short_folder_or_long_paths_on_is_fine():
    assert longpaths.trainer_dir_problems(SHORT, enabled=False) == []
    assert longpaths.trainer_dir_problems(DEEP, enabled=True) == []


def test_only_windows_has_the_limit():
    assert longpaths.long_paths_enabled("linux") is True
    assert longpaths.long_paths_enabled("darwin") is True


@pytest.mark.skipif(sys.platform != "win32", reason="reads the Windows registry")
def test_registry_value_is_read():
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, longpaths.KEY) as key:
            expected = winreg.QueryValueEx(key, longpaths.VALUE)[0] == 1
    except OSError:
        expected = False
    assert longpaths.long_paths_enabled() is expected


def test_runtime_api_warns_before_setup(api, tmp_path, monkeypatch):
    deep = tmp_path.joinpath(*["a-folder-with-a-rather-long-name"] * 4, "musubi-tuner")
    api.patch("/api/settings", json={"musubi_dir": str(deep)})
    monkeypatch.setattr(longpaths, "long_paths_enabled", lambda platform=None: False)  # as on a default Windows
    codes = [p["code"] for p in api.get("/api/runtime").get_json()["problems"]]
    assert "long_paths_disabled" in codes
    monkeypatch.setattr(longpaths, "long_paths_enabled", lambda platform=None: True)
    codes = [p["code"] for p in api.get("/api/runtime").get_json()["problems"]]
    assert "long_paths_disabled" not in codes
