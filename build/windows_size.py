"""Estimate the Windows one-file executable's size from the real win_amd64 wheels (issue 19).

    python build/build.py            # the Linux build this estimate mirrors (build/dist, build/work)
    python build/windows_size.py     # downloads the wheels (cached), prints the table

PyInstaller does not cross-build, and most users are on Windows, so this measures what it can: for every
distribution the Linux executable bundles, the same version's win_amd64 wheel is downloaded from PyPI and
the files PyInstaller would take from it are compressed the way PyInstaller stores them (zlib at the
CArchive's level for binaries and data, compiled and compressed at the PYZ's level for modules). What it
takes mirrors what the Linux build took (read from the built executable and its TOC files), plus what
exists only on Windows (pywebview's .NET backend: pythonnet and what it needs). CPython itself
(python311.dll, its .pyd modules and their DLLs, the VC runtime, the stdlib) is not on PyPI: those parts are
printed as not measurable, next to the Linux build's equivalent. Run by hand: it downloads, so no test
imports it.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import marshal
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
import zlib
from dataclasses import dataclass, field
from email.parser import Parser
from importlib.machinery import EXTENSION_SUFFIXES
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement
from PyInstaller.archive.readers import CArchiveReader
from PyInstaller.archive.writers import CArchiveWriter, ZlibArchiveWriter

HERE = Path(__file__).resolve().parent
CACHE = Path.home() / ".cache" / "lora-workbench-build" / "wheels"
MiB = 2**20

# What environment markers see on the target: 64-bit CPython 3.11 on Windows.
WINDOWS = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64",
           "python_version": "3.11", "python_full_version": "3.11.9", "implementation_name": "cpython",
           "platform_python_implementation": "CPython", "extra": ""}
LINUX = {**WINDOWS, "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
         "platform_machine": "x86_64"}
INSTALLER_WRITTEN = {"INSTALLER", "REQUESTED", "direct_url.json"}   # in dist-info, not in any wheel
KINDS = ("extensions", "libraries", "modules", "data")

# Parts that are not a PyPI distribution. Their Windows counterparts come with python.org's installer (or
# are the app's own files, identical on both systems).
CPYTHON_CORE = "CPython: libpython3.11.so / python311.dll"
CPYTHON_EXT = "CPython: lib-dynload/*.so / DLLs/*.pyd"
CPYTHON_LIBS = "System libs: ssl, sqlite, zlib, stdc++ / VC runtime"
STDLIB = "CPython: stdlib bytecode (PYZ + base_library.zip)"
TABLES = "PyInstaller: archive indexes"
NOT_MEASURABLE = {**dict.fromkeys((CPYTHON_CORE, CPYTHON_EXT, CPYTHON_LIBS, STDLIB),
                                   "python.org's CPython, not on PyPI"),
                  TABLES: "one entry per file, CPython's too"}
APP = "LoRA Workbench: server code, ui/dist, data"
BOOTSTRAP = "PyInstaller: bootstrap modules, links"
BOOTLOADER = "PyInstaller: bootloader (run / runw.exe)"
SAME_ON_BOTH = (APP, BOOTSTRAP)   # the same files go into both builds


def _load_build_script():
    """build/build.py as a module (it is a script, not a package): its paths and archive reader."""
    spec = spec_from_file_location("lora_workbench_build", HERE / "build.py")
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_script = _load_build_script()


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them (`Flask_Sock` == `flask-sock`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def module_name(path: str) -> str:
    """`numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so` (or `.cp311-win_amd64.pyd`)
    -> `numpy._core._multiarray_umath`: how an extension module is matched across the two systems."""
    p = PurePosixPath(path)
    return ".".join(p.parent.parts + (p.name.split(".")[0],))


def file_kind(path: str) -> str:
    """extensions (Python modules in C), libraries (other shared libraries), modules or data."""
    name = path.rsplit("/", 1)[-1]
    if name.endswith(".pyd") or name.endswith(tuple(s for s in EXTENSION_SUFFIXES if s != ".so")):
        return "extensions"
    if name.endswith((".dll", ".so", ".dylib")) or ".so." in name:
        return "libraries"
    return "modules" if name.endswith(".py") else "data"


def windows_counterpart(name: str, available) -> str | None:
    """The Windows module for a Linux one: the same name, or the platform's own variant
    (psutil's `_pslinux` / `_psutil_linux` are `_pswindows` / `_psutil_windows` there)."""
    for candidate in (name, name.replace("linux", "windows")):
        if candidate in available:
            return candidate
    return None


@dataclass
class Dist:
    """What the Linux build took from one distribution, and what that weighs in its executable."""
    name: str
    version: str
    linux_bytes: int = 0
    linux_by_kind: dict = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    extensions: set = field(default_factory=set)       # module names
    binaries: set = field(default_factory=set)         # other shared libraries (vendored), paths
    datas: set = field(default_factory=set)            # paths relative to site-packages
    modules: dict = field(default_factory=dict)        # module name -> source path relative to site-packages


def installed_owners() -> dict[str, metadata.Distribution]:
    """site-packages-relative path -> the installed distribution whose RECORD lists it."""
    owners = {}
    for dist in metadata.distributions():
        for f in dist.files or ():
            owners[PurePosixPath(f).as_posix()] = dist
    return owners


def read_linux_build(exe: Path, work: Path):
    """The Linux executable split into parts: {part: stored bytes} for what is not a distribution, and
    {distribution: Dist}. Sizes come from the executable's own archive (build.py's reader) and its
    embedded PYZ; which file is which comes from the TOC files PyInstaller wrote under build/work."""
    site = Path(os.path.realpath(sysconfig.get_paths()["purelib"]))
    root = Path(os.path.realpath(build_script.ROOT))
    owners = installed_owners()
    parts: dict[str, int] = {}
    dists: dict[str, Dist] = {}

    def dist_of(owner: metadata.Distribution) -> Dist:
        key = canonical(owner.metadata["Name"])
        return dists.setdefault(key, Dist(owner.metadata["Name"], owner.version))

    stored_total = 0
    for dest, stored, _unpacked, kind in build_script.archive_entries(exe):
        stored_total += stored
        if kind == "z":   # the PYZ: split by module below
            pyz_name, pyz_stored = dest, stored
            continue
        owner = owners.get(dest)
        if owner is not None:
            dist = dist_of(owner)
            dist.linux_bytes += stored
            what = file_kind(dest)
            dist.linux_by_kind[what] += stored
            if what == "extensions":
                dist.extensions.add(module_name(dest))
            elif what == "libraries":   # vendored ones, and pywebview's DLLs (data to PyInstaller on Linux)
                dist.binaries.add(dest)
            else:
                dist.datas.add(dest)
            continue
        if dest.startswith("python3.11/lib-dynload/"):
            part = CPYTHON_EXT
        elif dest.startswith("libpython"):
            part = CPYTHON_CORE
        elif kind == "b":
            part = CPYTHON_LIBS
        elif dest == "base_library.zip":
            part = STDLIB
        elif dest == "launcher" or dest.startswith(("ui/", "server/")):
            part = APP
        else:   # pyiboot/pyimod/pyi_rth*, links to vendored libraries, options
            part = BOOTSTRAP
        parts[part] = parts.get(part, 0) + stored

    pyz = CArchiveReader(str(exe)).open_embedded_archive(pyz_name)
    sources = {name: src for name, src, _kind in ast.literal_eval((work / "PYZ-00.toc").read_text())[1]}
    in_entries = 0
    for name, (_typecode, _offset, length) in pyz.toc.items():
        in_entries += length
        src = sources.get(name)
        real = Path(os.path.realpath(src)) if src not in (None, "-") else None
        if real is not None and real.is_relative_to(site):
            rel = real.relative_to(site).as_posix()
            owner = owners.get(rel)
            if owner is not None:
                dist = dist_of(owner)
                dist.linux_bytes += length
                dist.linux_by_kind["modules"] += length
                dist.modules[name] = rel
                continue
        part = APP if real is not None and real.is_relative_to(root) else STDLIB
        parts[part] = parts.get(part, 0) + length
    parts[TABLES] = pyz_stored - in_entries
    size = exe.stat().st_size
    parts[BOOTLOADER] = CArchiveReader(str(exe))._start_offset   # everything before the archive (no public name)
    parts[TABLES] += size - parts[BOOTLOADER] - stored_total
    return parts, dists


def libraries_left_out(dists: dict[str, Dist]) -> list[str]:
    """Shared libraries a bundled distribution installs that the Linux build did not take: the Windows
    count takes every DLL of a wheel, which is right only where Linux took every library too."""
    notes = []
    for dist in dists.values():
        files = metadata.distribution(dist.name).files or ()
        left = [f.as_posix() for f in files if file_kind(f.name) == "libraries" and f.as_posix() not in dist.binaries]
        if left:
            notes.append(f"the Linux build leaves out {dist.name}'s {', '.join(left)}")
    return notes


def pinned_requirements() -> dict[str, str]:
    """{name: version} pinned in requirements.txt and build/requirements-build.txt that apply on Windows."""
    pins = {}
    for path in (build_script.ROOT / "requirements.txt", HERE / "requirements-build.txt"):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split("#")[0].strip()
            if not line:
                continue
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate(WINDOWS):
                pins[canonical(req.name)] = next(iter(req.specifier)).version
    return pins


def download(requirement: str) -> Path | None:
    """The win_amd64 (or pure-Python) wheel for CPython 3.11 that pip picks for `requirement`, into the
    cache outside the repository (pip reuses a file already there); None where PyPI has no such wheel."""
    CACHE.mkdir(parents=True, exist_ok=True)
    out = subprocess.run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
                          "--only-binary=:all:", "--platform", "win_amd64", "--python-version", "3.11",
                          "--implementation", "cp", "--dest", str(CACHE), requirement],
                         capture_output=True, text=True)
    if out.returncode != 0:
        if "No matching distribution" in out.stderr:
            return None
        raise SystemExit(f"pip download {requirement} failed:\n{out.stdout}{out.stderr}")
    found = re.findall(r"(?:Saved|File was already downloaded) (\S+\.whl)", out.stdout)
    if not found:
        raise SystemExit(f"pip named no wheel for {requirement}:\n{out.stdout}")
    return Path(found[-1])


def wheel_requirements(wheel: zipfile.ZipFile, windows_only: bool) -> list[Requirement]:
    """The wheel's Requires-Dist entries that apply on Windows (markers evaluated for win32, no extras);
    with `windows_only`, just those that do not apply on Linux (pywebview's pythonnet): the rest of a
    bundled distribution's requirements the Linux build already shows bundled or not imported."""
    meta = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    headers = Parser().parsestr(wheel.read(meta).decode("utf-8"))
    reqs = [Requirement(r) for r in headers.get_all("Requires-Dist") or ()]
    reqs = [r for r in reqs if r.marker is None or r.marker.evaluate(WINDOWS)]
    return [r for r in reqs if r.marker is not None and not r.marker.evaluate(LINUX)] if windows_only else reqs


def compressed(data: bytes) -> int:
    """A binary or data file's size in the CArchive: zlib at the level PyInstaller writes it with."""
    return len(zlib.compress(data, CArchiveWriter._COMPRESSION_LEVEL))


def compiled_compressed(source: bytes, name: str) -> int:
    """A module's size in the PYZ: its code object marshalled, then zlib at the PYZ's level."""
    code = compile(source, name.replace(".", "/") + ".py", "exec", optimize=0, dont_inherit=True)
    return len(zlib.compress(marshal.dumps(code), ZlibArchiveWriter._COMPRESSION_LEVEL))


@dataclass
class WindowsPart:
    """What the Windows build would take from one distribution, compressed as stored."""
    name: str
    version: str
    bytes: int = 0
    files: dict = field(default_factory=dict)   # path in the wheel -> compressed bytes
    missing: list = field(default_factory=list)  # what the Linux build took that the wheel lacks
    whole_wheel: bool = False                    # a Windows-only distribution: all of its modules counted

    def by_kind(self) -> dict[str, int]:
        kinds = dict.fromkeys(KINDS, 0)
        for path, size in self.files.items():
            kinds[file_kind(path)] += size
        return kinds


def measure_wheel(path: Path, linux: Dist | None) -> WindowsPart:
    """What PyInstaller would take from one downloaded Windows wheel (measure_files)."""
    with zipfile.ZipFile(path) as whl:
        names = [n for n in whl.namelist() if not n.endswith("/")]
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        headers = Parser().parsestr(whl.read(meta).decode("utf-8"))
        return measure_files(names, whl.read, WindowsPart(headers["Name"], headers["Version"]), linux)


def measure_files(names: list[str], read, part: WindowsPart, linux: Dist | None) -> WindowsPart:
    """What PyInstaller would take from one distribution's Windows files (`names`, contents by `read`),
    compressed as it stores them.

    Mirrors the Linux build: the same extension modules (by module name, or the platform's variant),
    the same data files and the same pure-Python modules; and every DLL in the wheel, because the Linux
    build took every vendored library it had (delvewheel's `*.libs`, like auditwheel's, holds only what the
    extensions link) and the hooks collect the rest (onnxruntime's and clr_loader's `collect_dynamic_libs`,
    pythonnet's Python.Runtime.dll, pywebview's lib/ folder). A distribution the Linux build does not
    have (Windows-only) counts whole: all modules, extensions and DLLs, its upper bound."""
    part.whole_wheel = linux is None
    pyds = {module_name(n): n for n in names if n.endswith(".pyd")}
    sources = {module_name(n) if not n.endswith("/__init__.py") else module_name(n.rsplit("/", 1)[0]): n
               for n in names if n.endswith(".py") and ".dist-info/" not in n}

    def take(n, size):
        part.files[n] = size

    for n in names:
        if n.lower().endswith(".dll"):
            take(n, compressed(read(n)))
    if linux is None:
        for n in pyds.values():
            take(n, compressed(read(n)))
        for mod, n in sources.items():
            take(n, compiled_compressed(read(n), mod))
    else:
        for mod in sorted(linux.extensions):
            win = windows_counterpart(mod, pyds)
            if win is None:
                part.missing.append(mod)
            else:
                take(pyds[win], compressed(read(pyds[win])))
        for dest in sorted(linux.datas):
            rel = dest if dest in names else None
            if rel is None:   # dist-info folder names may differ in case only
                rel = next((n for n in names if n.lower() == dest.lower()), None)
            if rel is None:
                if dest.rsplit("/", 1)[-1] not in INSTALLER_WRITTEN:
                    part.missing.append(dest)
            elif rel not in part.files:
                take(rel, compressed(read(rel)))
        for mod in sorted(linux.modules):
            win = windows_counterpart(mod, sources)
            if win is None:
                part.missing.append(mod)
            else:
                take(sources[win], compiled_compressed(read(sources[win]), win))
    part.bytes = sum(part.files.values())
    return part


def measure_installed_instead(requirement: str, linux: Dist | None) -> WindowsPart:
    """A distribution PyPI has only as source (proxy_tools): a pure-Python one installs the same files
    on Windows, so the installed ones are measured. A native one cannot be, and stops the estimate."""
    if linux is None or linux.extensions or linux.binaries:
        raise SystemExit(f"no win_amd64 wheel for {requirement}, and it is not a pure-Python part of the build")
    site = Path(sysconfig.get_paths()["purelib"])
    dist = metadata.distribution(linux.name)
    names = [PurePosixPath(f).as_posix() for f in dist.files or ()]
    return measure_files(names, lambda n: (site / n).read_bytes(), WindowsPart(linux.name, linux.version), linux)


def measure_windows(dists: dict[str, Dist]) -> tuple[dict[str, WindowsPart], list[str]]:
    """Download and measure each bundled distribution's win_amd64 wheel at the installed version, then
    the Windows-only distributions they require (recursively, newest version pip picks). Returns the
    parts by canonical name, and notes on pins that disagree with what the build bundled."""
    notes = []
    for name, version in pinned_requirements().items():
        if name not in dists and name != "pyinstaller":
            notes.append(f"{name}=={version} is pinned but the Linux build bundles none of it")
        elif name in dists and dists[name].version != version:
            notes.append(f"{name}: pinned {version}, the build bundled {dists[name].version}")
    measured: dict[str, WindowsPart] = {}
    queue = [(key, f"{d.name}=={d.version}") for key, d in dists.items()]
    while queue:
        key, requirement = queue.pop(0)
        if key in measured:
            continue
        wheel = download(requirement)
        if wheel is None:
            measured[key] = measure_installed_instead(requirement, dists.get(key))
            notes.append(f"{requirement}: no wheel on PyPI (source only); measured from the installed, "
                         f"pure-Python files, the same on Windows")
            continue
        measured[key] = measure_wheel(wheel, dists.get(key))
        with zipfile.ZipFile(wheel) as whl:
            for req in wheel_requirements(whl, windows_only=key in dists):
                if canonical(req.name) not in dists and canonical(req.name) not in measured:
                    queue.append((canonical(req.name), str(Requirement(f"{req.name}{req.specifier}"))))
    return measured, notes


def bootloader_size() -> tuple[int, str]:
    """The windowed Windows bootloader (runw.exe) from PyInstaller's own win_amd64 wheel, stored as is,
    plus the icon build.py writes, which the Windows build puts into it as a resource."""
    pin = pinned_requirements()["pyinstaller"]
    icon = build_script.WORK / "icon.ico"
    with zipfile.ZipFile(download(f"pyinstaller=={pin}")) as whl:
        name = next(n for n in whl.namelist() if n.endswith("Windows-64bit-intel/runw.exe"))
        return (whl.getinfo(name).file_size + icon.stat().st_size,
                f"pyinstaller {pin} {name.split('/', 1)[1]} + {icon.relative_to(build_script.ROOT)}")


def print_table(parts: dict[str, int], dists: dict[str, Dist], windows: dict[str, WindowsPart],
                runw: int, exe_size: int) -> None:
    """Part by part, Linux next to Windows, with totals of what is comparable."""
    def row(label, linux, win, note=""):
        lx = f"{linux / MiB:7.2f}" if linux is not None else "      -"
        wn = f"{win / MiB:7.2f}" if isinstance(win, int) else f"{win:>7}"
        print(f"  {label:<52} {lx}  {wn}  {note}")

    print(f"\n  {'part (compressed in the one-file executable)':<52} {'Linux':>7}  {'Windows':>7}  MiB")
    measurable_win = measurable_linux = 0
    keys = sorted(windows, key=lambda k: -(dists[k].linux_bytes if k in dists else windows[k].bytes))
    for key in sorted(keys, key=lambda k: k not in dists):
        w = windows[key]
        linux = dists[key].linux_bytes if key in dists else None
        note = "Windows only, whole wheel" if w.whole_wheel else ""
        if w.missing:
            note += f"not in the wheel: {', '.join(w.missing[:3])}{'...' if len(w.missing) > 3 else ''}"
        row(f"{w.name} {w.version}", linux, w.bytes, note)
        if max(linux or 0, w.bytes) > MiB:   # where a big part's weight sits, on each system
            win_kinds = w.by_kind()
            for kind in KINDS:
                if dists[key].linux_by_kind[kind] or win_kinds[kind]:
                    row(f"  {kind}", dists[key].linux_by_kind[kind], win_kinds[kind])
        measurable_win += w.bytes
        measurable_linux += linux or 0
    for label in SAME_ON_BOTH:
        row(label, parts.get(label, 0), parts.get(label, 0), "same files")
        measurable_win += parts.get(label, 0)
        measurable_linux += parts.get(label, 0)
    row(BOOTLOADER, parts[BOOTLOADER], runw, "runw.exe from PyInstaller's win_amd64 wheel, with the icon")
    measurable_win += runw
    measurable_linux += parts[BOOTLOADER]
    print(f"  {'':-<52} {'':->7}  {'':->7}")
    row("measurable parts", measurable_linux, measurable_win)
    rest = sum(parts[p] for p in NOT_MEASURABLE)
    for label, why in NOT_MEASURABLE.items():
        row(label, parts[label], "n/a", f"not measurable here: {why}")
    print(f"  {'':-<52} {'':->7}  {'':->7}")
    row("executable", exe_size, "n/a", f"Linux: {exe_size / 1e6:.1f} MB")
    row("  Windows if the n/a parts weighed what Linux's do", None, measurable_win + rest,
        f"{(measurable_win + rest) / 1e6:.1f} MB, a guide, not a measurement")


def print_largest_files(windows: dict[str, WindowsPart], count: int = 12) -> None:
    """The biggest single files of the Windows parts: where the Windows build's weight sits."""
    files = sorted(((size, f"{part.name}: {path}") for part in windows.values()
                    for path, size in part.files.items()), reverse=True)[:count]
    print("\n  Largest Windows files (compressed MiB):")
    for size, label in files:
        print(f"  {size / MiB:7.2f}  {label}")


def main() -> int:
    if sys.platform == "win32":
        raise SystemExit("on Windows, build it: python build/build.py prints the real executable's parts")
    exe = build_script.DIST / "LoRA-Workbench"
    work = build_script.WORK / "lora_workbench"
    if not exe.is_file() or not (work / "PYZ-00.toc").is_file():
        raise SystemExit(f"build the Linux executable first (python build/build.py): {exe} is missing")
    parts, dists = read_linux_build(exe, work)
    windows, notes = measure_windows(dists)
    runw, runw_name = bootloader_size()
    print(f"Linux executable: {exe} ({exe.stat().st_size / 1e6:.1f} MB); wheels in {CACHE}")
    print(f"Windows bootloader: {runw_name}")
    for note in notes + libraries_left_out(dists):
        print(f"note: {note}")
    print_table(parts, dists, windows, runw, exe.stat().st_size)
    print_largest_files(windows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
