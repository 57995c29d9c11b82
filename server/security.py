"""The per-launch secret and the loopback guard, applied to every request.

- The secret travels as the `X-Workbench-Token` header, the `lw_token` cookie (set when the UI is
  first opened through the secret URL `/?token=...`), or a `token` query parameter (for links
  opened outside the page, e.g. "download log"). Compared in constant time.
- The UI's static files carry no user data and are served without the secret, so that a page
  opened without it can explain what to do; everything under /api, /media and /ws needs it.
- Requests whose Host is not a loopback name are refused: a web page on another site cannot
  rebind its DNS name to 127.0.0.1 and talk to us. Cross-site Origins are refused likewise, and a
  request that carries the secret only in the cookie must come from our own origin (not `null`).
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlencode, urlsplit

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


def token_only_from_cookie() -> bool:
    """True when the secret came with the cookie alone: the browser adds it to any same-site request,
    including one made by a page of another program on another loopback port."""
    return not request.headers.get(TOKEN_HEADER) and not request.args.get("token") \
        and bool(request.cookies.get(TOKEN_COOKIE))


def token_ok(token: str | None) -> bool:
    expected = current_app.config["WORKBENCH_TOKEN"]
    if not token:
        return False
    # Bytes, not str: compare_digest raises TypeError for non-ASCII str (a 500 for a junk secret).
    return hmac.compare_digest(str(token).encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


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
        # Cookies are per host, not per port: a page served by another local program (127.0.0.1:8080)
        # is "same-site" and its requests and websockets carry our cookie. Riding on the cookie alone,
        # only our own origin is accepted (the UI, and the Vite dev proxy, which keeps the Host header).
        # "null" is no exception: a sandboxed frame, a data: page or a POST that went through a 307
        # redirect send `Origin: null` with our cookie; our own pages always send their real origin.
        if protected and origin and token_only_from_cookie() \
                and (origin == "null" or urlsplit(origin).netloc.lower() != (request.host or "").lower()):
            return error_response("bad_origin", "Cross-origin requests are not allowed.", 403)
        # Opening the secret URL stores the secret in a cookie and drops it from the address bar.
        if not protected and request.method == "GET" and "token" in request.args:
            if not token_ok(request.args.get("token")):
                return error_response("unauthorized", "Wrong launch secret.", 401)
            query = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "token"])
            # "//host/..." would be a link to another site: always stay on this server.
            resp = redirect("/" + path.lstrip("/\\") + ("?" + query if query else ""))
            resp.set_cookie(TOKEN_COOKIE, request.args["token"], httponly=True, samesite="Strict", path="/")
            return resp
        return None
