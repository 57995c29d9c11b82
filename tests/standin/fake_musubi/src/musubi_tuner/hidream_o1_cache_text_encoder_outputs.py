"""Stand-in for the musubi-tuner script of the same name (tests only; see tests/standin/README.md)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from standin import main  # noqa: E402

main(Path(__file__).stem)
