"""Leave debug information out of the executable's Linux libraries.

A Python built from source (pyenv, as on the build machine) ships libpython and its lib-dynload modules
with DWARF debug sections, and PyAV's, Pillow's and psutil's extension modules keep theirs: about 60 MiB
uncompressed (17 MiB in the one-file executable) that nothing reads at run time. `strip --strip-debug`
removes only those sections (symbols and code stay).

Only files that HAVE debug sections are stripped, never all of them: PyInstaller's `strip=True` also
rewrites the libraries auditwheel vendored (av.libs, numpy.libs), whose program headers patchelf moved,
and the stripped copies fail to load ("ELF load command address/offset not page-aligned"); none of those
carry debug sections, so they go in untouched. Windows DLLs keep their debug data in separate .pdb
files, so there is nothing to do there.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

ELF_MAGIC = b"\x7fELF"


def has_debug_sections(path: str | Path) -> bool:
    """True for an ELF file with a `.debug_*` section (read from its section headers, nothing run)."""
    try:
        with open(path, "rb") as f:
            ident = f.read(16)
            if len(ident) < 16 or ident[:4] != ELF_MAGIC:
                return False
            is64 = ident[4] == 2
            order = "<" if ident[5] == 1 else ">"
            if is64:
                f.seek(0x28)
                (shoff,) = struct.unpack(order + "Q", f.read(8))
                f.seek(0x3A)
            else:
                f.seek(0x20)
                (shoff,) = struct.unpack(order + "I", f.read(4))
                f.seek(0x2E)
            shentsize, shnum, shstrndx = struct.unpack(order + "HHH", f.read(6))
            if not shoff or not shnum or shstrndx >= shnum:
                return False
            f.seek(shoff)
            table = f.read(shentsize * shnum)
            fmt = order + ("IIQQQQIIQQ" if is64 else "IIIIIIIIII")
            headers = [struct.unpack_from(fmt, table, i * shentsize) for i in range(shnum)]
            names = headers[shstrndx]   # sh_offset is field 4, sh_size field 5 in both layouts
            f.seek(names[4])
            strtab = f.read(names[5])
    except (OSError, struct.error):
        return False
    for h in headers:
        end = strtab.find(b"\0", h[0])
        if strtab[h[0]:end if end >= 0 else None].startswith(b".debug_"):
            return True
    return False


def strip_debug(binaries: list, workdir: Path) -> tuple[list, int | None]:
    """PyInstaller's binaries TOC with each file that has debug sections replaced by a copy without
    them (under `workdir`, same relative name); returns (toc, bytes saved). Without a `strip` program
    the TOC is returned unchanged with None (the build still works, only bigger; the spec says so)."""
    strip = shutil.which("strip")
    if not strip:
        return list(binaries), None
    out, saved = [], 0
    for dest, src, kind in binaries:
        if src and has_debug_sections(src):
            copy = workdir / dest
            copy.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([strip, "--strip-debug", "-o", str(copy), src], check=True)
            shutil.copymode(src, copy)
            saved += Path(src).stat().st_size - copy.stat().st_size
            src = str(copy)
        out.append((dest, src, kind))
    return out, saved
