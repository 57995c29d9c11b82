"""The per-launch secret and the loopback guard, applied to every request.

- The secret travels as the `X-Workbench-Token` header, the `lw_token` cookie (set when the UI is
  first opened through the secret URL `/?token=...`), or a `token` query parameter (for links
  opened outside the page, e.g. "download log"). Compared in constant time.
- The UI's static files carry no user data and are served without the secret, so that a page
  opened without it can explain what to do; everything under /api, /media and /ws needs it.
- Requests whose Host is not a loopback name are refused: a web page on another site cannot
  rebind its DNS name to 127.0.0.1 and talk to us. Cross-site Origins are refused likewise.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import Flask, current_app, redirect, request

from .errors import error_response

TOKEN_HEADER = "X-Workbench-Token"
TOKEN_COOKIE = "lw_token"
PROTECTED_PREFIXES = ("/api/", "/media/", "/ws")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _host_name(host: str) -> str:
    host = (host or "").strip().lower()
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def is_loopback_host(host: str) -> bool:
    return _host_name(host) in LOOPBACK_HOSTS


def presented_token() -> str | None:
    return (request.headers.get(TOKEN_HEADER) or request.cookies.get(TOKEN_COOKIE)
            or request.args.get("token"))


def token_ok(token: str | None) -> bool:
    expected = current_app.config["WORKBENCH_TOKEN"]
    return bool(token) and hmac.compare_digest(str(token), expected)


def install(app: Flask) -> None:
    @app.before_request
    def _guard():
        if not is_loopback_host(request.host):
            return error_response("bad_host", "Requests must be addressed to 127.0.0.1 or localhost.", 403)
        origin = request.headers.get("Origin")
        if origin and origin != "null" and not is_loopback_host(urlsplit(origin).netloc):
            return error_response("bad_origin", "Cross-site requests are not allowed.", 403)

        path = request.path
        protected = path == "/ws" or path.startswith(PROTECTED_PREFIXES)
        if protected and not token_ok(presented_token()):
            return error_response(
                "unauthorized",
                "Missing or wrong launch secret. Open the address the launcher printed (it contains ?token=...).",
                401,
            )
        # Opening the secret URL stores the secret in a cookie and drops it from the address bar.
        if not protected and request.method == "GET" and "token" in request.args:
            if not token_ok(request.args.get("token")):
                return error_response("unauthorized", "Wrong launch secret.", 401)
            query = "&".join(f"{k}={v}" for k, v in request.args.items() if k != "token")
            resp = redirect(path + ("?" + query if query else ""))
            resp.set_cookie(TOKEN_COOKIE, request.args["token"], httponly=True, samesite="Strict", path="/")
            return resp
        return None
