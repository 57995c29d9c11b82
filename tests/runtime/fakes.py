"""Stand-ins for a musubi-tuner checkout, its Python environment, a git remote and a wheel index.

Everything is real files made in a tmp dir, offline:
- `make_checkout(path)`: a musubi-tuner-shaped folder (pyproject with version, src/musubi_tuner) whose
  pyproject builds with an in-tree PEP 517/660 backend (`_build/lwbackend.py`, no dependencies), so
  `pip install -e .[cu128]` works without downloading hatchling; optionally a git repository.
- `make_wheels(dir)`: tiny wheels for torch / torchvision / accelerate / the optimizer packages. The fake
  torch exposes `__version__`, `version.cuda` and `cuda.is_available()` / device names, steered by
  environment variables (FAKE_TORCH_CUDA=0 -> no GPU).
- `make_index(dir, wheels)`: those wheels as a PEP 503 index (a file:// URL) for --index-url.
- `make_env(path, torch=..., accelerate=..., musubi=...)`: a venv (no pip, fast) with those packages
  written straight into its site-packages.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": os.environ.get("HOME", "/tmp")}

FAKE_TORCH = '''
import os as _os
__version__ = _os.environ.get("FAKE_TORCH_VERSION", "{version}")

class version:
    cuda = _os.environ.get("FAKE_TORCH_CUDA_BUILD", "{cuda}") or None

class cuda:
    @staticmethod
    def is_available():
        return _os.environ.get("FAKE_TORCH_CUDA", "1") == "1" and version.cuda is not None

    @staticmethod
    def device_count():
        return 1 if cuda.is_available() else 0

    @staticmethod
    def get_device_name(i=0):
        return _os.environ.get("FAKE_TORCH_GPU", "NVIDIA GeForce RTX 4090")

    @staticmethod
    def get_device_capability(i=0):
        return (8, 9)

    @staticmethod
    def get_arch_list():
        return ["sm_80", "sm_86", "sm_89", "sm_90"]
'''

BACKEND = '''
"""A tiny in-tree PEP 517 / 660 build backend (tests only): an editable install is a .pth file."""
import base64, hashlib, os, re, zipfile

NAME, VERSION = "musubi_tuner", "{version}"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _metadata():
    text = open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8").read()
    deps = re.search(r"^dependencies = \\[(.*?)\\]", text, re.S | re.M).group(1)
    lines = ["Metadata-Version: 2.1", "Name: musubi-tuner", "Version: " + VERSION]
    lines += ["Requires-Dist: " + d for d in re.findall(r'"([^"]+)"', deps)]
    for extra, body in re.findall(r"^(cu\\d+) = \\[(.*?)\\]", text, re.S | re.M):
        lines.append("Provides-Extra: " + extra)
        lines += ['Requires-Dist: %s; extra == "%s"' % (d, extra) for d in re.findall(r'"([^"]+)"', body)]
    return "\\n".join(lines) + "\\n"


def _wheel(directory, files):
    dist = "%s-%s.dist-info" % (NAME, VERSION)
    files = dict(files)
    files[dist + "/METADATA"] = _metadata()
    files[dist + "/WHEEL"] = "Wheel-Version: 1.0\\nGenerator: lwbackend\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data.encode()).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (name, digest, len(data.encode())))
    record.append(dist + "/RECORD,,")
    files[dist + "/RECORD"] = "\\n".join(record) + "\\n"
    filename = "%s-%s-py3-none-any.whl" % (NAME, VERSION)
    with zipfile.ZipFile(os.path.join(directory, filename), "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return filename


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    src = os.path.join(ROOT, "src", NAME)
    files = {}
    for base, _, names in os.walk(src):
        for n in names:
            full = os.path.join(base, n)
            files[os.path.relpath(full, os.path.join(ROOT, "src")).replace(os.sep, "/")] = open(full, encoding="utf-8").read()
    return _wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, {"_musubi_tuner_editable.pth": os.path.join(ROOT, "src") + "\\n"})
'''


def git(*args, cwd=None) -> str:
    res = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_ENV})
    if res.returncode:
        raise RuntimeError(f"git {args}: {res.stderr}")
    return res.stdout.strip()


def make_checkout(path: Path, *, version: str = "0.3.4", git_repo: bool = False, extras=("cu124", "cu128", "cu130"),
                  dependencies=("accelerate",)) -> Path:
    path = Path(path)
    (path / "src" / "musubi_tuner").mkdir(parents=True, exist_ok=True)
    (path / "src" / "musubi_tuner" / "__init__.py").write_text("", encoding="utf-8")
    (path / "src" / "musubi_tuner" / "qwen_image_train_network.py").write_text("def main():\n    pass\n",
                                                                               encoding="utf-8")
    (path / "_build").mkdir(exist_ok=True)
    (path / "_build" / "lwbackend.py").write_text(BACKEND.replace("{version}", version), encoding="utf-8")
    extra_lines = "\n".join(f'{e} = ["torch>=2.5.1", "torchvision>=0.20.1"]' for e in extras)
    deps = ", ".join(f'"{d}"' for d in dependencies)
    (path / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [project]
        name = "musubi-tuner"
        version = "{version}"
        requires-python = ">=3.10, <3.13"
        dependencies = [{deps}]

        [project.optional-dependencies]
        """) + extra_lines + textwrap.dedent("""

        [build-system]
        requires = []
        build-backend = "lwbackend"
        backend-path = ["_build"]
        """), encoding="utf-8")
    (path / ".gitignore").write_text(".venv/\n.venv.*/\n", encoding="utf-8")
    if git_repo:
        git("init", "-q", "-b", "main", str(path))
        git("add", "-A", cwd=path)
        git("commit", "-q", "-m", "musubi", cwd=path)
    return path


def _write_wheel(directory: Path, name: str, version: str, files: dict[str, str]) -> Path:
    dist = f"{name}-{version}.dist-info"
    files = dict(files)
    files[f"{dist}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    files[f"{dist}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for fname, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{fname},sha256={digest},{len(data.encode())}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    out = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(out, "w") as z:
        for fname, data in files.items():
            z.writestr(fname, data)
    return out


def make_wheels(directory: Path, *, torch_version: str = "2.7.1+cu128", cuda: str = "12.8") -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _write_wheel(directory, "torch", torch_version,
                 {"torch/__init__.py": FAKE_TORCH.replace("{version}", torch_version).replace("{cuda}", cuda)})
    _write_wheel(directory, "torchvision", "0.22.1", {"torchvision/__init__.py": '__version__ = "0.22.1"\n'})
    _write_wheel(directory, "accelerate", "1.6.0", {"accelerate/__init__.py": '__version__ = "1.6.0"\n'})
    _write_wheel(directory, "prodigyopt", "1.1.2", {"prodigyopt/__init__.py": "class Prodigy:\n    pass\n"})
    _write_wheel(directory, "came_pytorch", "0.1.3", {"came_pytorch/__init__.py": "class CAME:\n    pass\n"})
    return directory


def make_index(directory: Path, wheels: Path) -> str:
    """A PEP 503 "simple" index of the wheels in `wheels` as plain files; returns its file:// URL, which
    pip reads like any index (--index-url), so the index-choosing code runs for real, offline."""
    directory = Path(directory)
    for whl in Path(wheels).glob("*.whl"):
        project = whl.name.split("-")[0].lower().replace("_", "-")
        (directory / project).mkdir(parents=True, exist_ok=True)
        (directory / project / whl.name).write_bytes(whl.read_bytes())
        page = directory / project / "index.html"
        links = page.read_text(encoding="utf-8") if page.exists() else ""
        page.write_text(links + f'<a href="{whl.name}">{whl.name}</a>\n', encoding="utf-8")
    return directory.resolve().as_uri()


def venv_python(venv: Path) -> Path:
    return venv / "Scripts" / "python.exe" if sys.platform == "win32" else venv / "bin" / "python"


def site_packages(venv: Path) -> Path:
    if sys.platform == "win32":
        return venv / "Lib" / "site-packages"
    return venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"


def make_env(venv: Path, *, torch: str | None = "2.7.1+cu128", cuda: str | None = "12.8", accelerate: bool = True,
             musubi_src: Path | None = None) -> Path:
    """A venv without pip (quick) with fake packages written into site-packages; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    sp = site_packages(venv)
    assert sp.is_dir(), sysconfig.get_paths()
    if torch:
        (sp / "torch").mkdir()
        (sp / "torch" / "__init__.py").write_text(FAKE_TORCH.replace("{version}", torch).replace("{cuda}", cuda or ""),
                                                  encoding="utf-8")
    if accelerate:
        (sp / "accelerate").mkdir()
        (sp / "accelerate" / "__init__.py").write_text('__version__ = "1.6.0"\n', encoding="utf-8")
    if musubi_src:
        (sp / "_musubi_tuner_editable.pth").write_text(str(musubi_src) + "\n", encoding="utf-8")
    return venv_python(venv)
