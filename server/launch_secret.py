"""The per-launch secret: how one is made and how long it must be in server mode.

Apart from security.py (which checks it on every request) because the launcher needs it before
Flask loads: it opens the window while the app is still being built (launcher.py).
"""

from __future__ import annotations

import secrets

# 32 characters of token_urlsafe carry 192 bits: out of reach of any guessing, rate-limited or not.
MIN_SERVER_SECRET = 32


def new_token() -> str:
    return secrets.token_urlsafe(24)


def server_secret_problem(token: str) -> str | None:
    """Why `token` cannot guard a server reachable from the network, or None when it can."""
    if len(token or "") < MIN_SERVER_SECRET:
        return (f"In server mode the launch secret must be at least {MIN_SERVER_SECRET} characters long "
                "(leave --token and LORA_WORKBENCH_TOKEN out for a random one).")
    return None
