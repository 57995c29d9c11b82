"""The app's version, shown by /api/health and stamped into builds.

`build/build.py` writes `server/_build_info.py` (build time, git commit) into the executable it
builds; a source checkout has none, and says so with None.
"""

__version__ = "0.1.0"

try:
    from ._build_info import BUILT_AT, COMMIT
except ImportError:
    BUILT_AT = COMMIT = None
