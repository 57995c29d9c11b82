# Shared by start.sh and test.sh: make the Python venv and build the UI, doing only what changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  # 3.11 or 3.12 (pyproject.toml's requires-python; numpy 2.4 has no 3.10 wheels).
  for candidate in python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else 1)'; then
      PYTHON="$candidate"; break
    fi
  done
  if [ -z "$PYTHON" ] && [ ! -x .venv/bin/python ]; then
    echo "Python 3.11 or 3.12 is needed (set PYTHON=/path/to/python to choose one)." >&2
    exit 1
  fi
fi

ensure_venv() {  # $1: requirements file
  local req="$1" stamp=".venv/.installed-$(basename "$1")"
  if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv with $PYTHON"
    "$PYTHON" -m venv .venv
  fi
  if [ ! -f "$stamp" ] || [ "$req" -nt "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ build/requirements-build.txt -nt "$stamp" ]; then
    echo "==> installing Python packages from $req"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r "$req"
    touch "$stamp"
  fi
}

build_ui() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "==> installing UI packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
  echo "==> building the UI"
  npm run --silent build >/dev/null
}
