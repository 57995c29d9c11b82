"""Build the one-file portable executable: UI first, then PyInstaller with lora_workbench.spec.

    python build/build.py            # -> build/dist/LoRA-Workbench(.exe), size report printed

The app's version is stamped into the executable: `server/_build_info.py` is written for the build
(and removed after), and on Windows a version resource and the icon (build/icon.py) are generated.
The size report lists what takes the most room, so the README's account of the size stays true.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
WORK = BUILD / "work"
DIST = BUILD / "dist"
BUILD_INFO = ROOT / "server" / "_build_info.py"


def version() -> str:
    """`__version__` read from server/version.py without running it: the module imports the build
    stamp relatively (`from ._build_info import ...`), which only works inside the `server` package,
    and importing `server` here would need the app's dependencies before the build has checked them."""
    tree = ast.parse((ROOT / "server" / "version.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit("server/version.py has no __version__ = '...' line")


def run(argv, **kw):
    print("+", " ".join(map(str, argv)), flush=True)
    subprocess.run(argv, check=True, **kw)


def build_ui() -> None:
    npm = shutil.which("npm") or shutil.which("npm.cmd")
    if not npm:
        sys.exit("npm is needed to build the UI")
    if not (ROOT / "node_modules").is_dir():
        run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT)
    run([npm, "run", "build"], cwd=ROOT)


def write_icon() -> Path:
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("lora_workbench_icon", BUILD / "icon.py")
    icon = module_from_spec(spec)
    spec.loader.exec_module(icon)
    return icon.write_ico(WORK / "icon.ico")


def write_version_files(ver: str) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = ""
    BUILD_INFO.write_text(f'"""Written by build/build.py for version {ver}."""\n\n'
                          f'BUILT_AT = "{time.strftime("%Y-%m-%d %H:%M:%S")}"\nCOMMIT = "{commit}"\n',
                          encoding="utf-8")
    parts = (ver.split("-")[0].split(".") + ["0", "0", "0"])[:4]
    numbers = ", ".join(p if p.isdigit() else "0" for p in parts)
    (WORK / "version_info.txt").write_text(f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers=({numbers}), prodvers=({numbers})),
  kids=[StringFileInfo([StringTable('040904B0', [
    StringStruct('ProductName', 'LoRA Workbench'),
    StringStruct('FileDescription', 'LoRA Workbench'),
    StringStruct('FileVersion', '{ver}'),
    StringStruct('ProductVersion', '{ver}')])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])]
)
""", encoding="utf-8")


def archive_entries(exe: Path):
    """(name, stored bytes, unpacked bytes, PyInstaller type code) of each part of the built executable,
    read from its archive: what each part adds to the download, not what went into the recipe.
    build/windows_size.py reads the Linux build with it too."""
    from PyInstaller.archive.readers import CArchiveReader

    for dest, (_offset, stored, unpacked, _flag, kind) in CArchiveReader(str(exe)).toc.items():
        yield dest, stored, unpacked, kind


def size_report(exe: Path) -> None:
    """Print the executable's size and what inside it takes the most room, read from the built archive
    itself: each part's compressed size (what it adds to the download) and its size unpacked."""
    size = exe.stat().st_size
    print(f"\nExecutable: {exe}  {size / 2**20:.1f} MiB ({size / 1e6:.1f} MB)", flush=True)
    groups: dict[str, list[int]] = {}
    for dest, stored, unpacked, _kind in archive_entries(exe):
        parts = dest.replace("\\", "/").split("/")
        # a package folder counts as one; a loose library by its name without version suffixes
        top = parts[0] if len(parts) > 1 else parts[0].split(".")[0]
        total = groups.setdefault(top, [0, 0])
        total[0] += stored
        total[1] += unpacked
    print("Largest parts (compressed in the executable / unpacked):")
    for key, (stored, unpacked) in sorted(groups.items(), key=lambda kv: -kv[1][0])[:12]:
        print(f"  {key:<36} {stored / 2**20:6.1f} / {unpacked / 2**20:6.1f} MiB")


def main() -> int:
    ver = version()
    print(f"Building LoRA Workbench {ver} for {sys.platform}", flush=True)
    build_ui()
    write_version_files(ver)
    write_icon()
    try:
        run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--workpath", str(WORK),
             "--distpath", str(DIST), str(BUILD / "lora_workbench.spec")], cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": "0"})
    finally:
        BUILD_INFO.unlink(missing_ok=True)
    exe = DIST / ("LoRA-Workbench.exe" if sys.platform == "win32" else "LoRA-Workbench")
    size_report(exe)
    return 0


if __name__ == "__main__":
    sys.exit(main())
