"""Which pywebview engines can show the UI.

The UI is ES-module JavaScript built for current browsers. On Windows, pywebview 6.2 uses Edge
WebView2 ("edgechromium") when the WebView2 runtime is installed, and otherwise falls back silently
to the Internet Explorer engine ("mshtml") instead of raising: the window opens blank. So the
launcher asks at `events.initialized` (before the window is created) and refuses anything but
Edge Chromium on Windows; the app then opens in the system browser instead. Elsewhere only Qt's old
WebKit ("qtwebkit", no ES modules) is refused; the Linux build bundles Qt WebEngine.
"""

from __future__ import annotations

import sys

WINDOWS_ENGINE = "edgechromium"
TOO_OLD = frozenset({"mshtml", "qtwebkit"})


def usable(renderer: str | None, platform: str | None = None) -> bool:
    if (platform or sys.platform) == "win32":
        return renderer == WINDOWS_ENGINE
    return bool(renderer) and renderer not in TOO_OLD
