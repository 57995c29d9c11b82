"""Pages render and components stay small (issue 16): no .svelte file over 300 lines, state and server calls
go to a class in lib/*.svelte.js and lib/api/<area>.js."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 300


def test_no_svelte_file_over_the_limit():
    src = ROOT / "ui" / "src"
    over = {}
    for path in src.rglob("*.svelte"):
        rel = path.relative_to(src).as_posix()
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            over[rel] = n
    assert not over, f"split these (state into a lib/*.svelte.js class, parts into components): {over}"
