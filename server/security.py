"""The per-launch secret and the loopback guard, applied to every request.

- The secret travels as the `X-Workbench-Token` header, the `lw_token` cookie (set when the UI is
  first opened through the secret URL `/?token=...`), or a `token` query parameter (for links
  opened outside the page, e.g. "download log"). Compared in constant time.
- The UI's static files carry no user data and are served without the secret, so that a page
  opened without it can explain what to do; everything under /api, /media and /ws needs it.
- Requests whose Host is not a loopback name are refused: a web page on another site cannot
  rebind its DNS name to 127.0.0.1 and talk to us. Cross-site Origins are refused likewise, and a
  request that carries the secret only in the cookie must come from our own origin (not `null`).
- Server mode (`launcher.py --listen ADDR`): the host names given with `--allowed-host` (and the
  listen address itself) are accepted besides loopback; every other Host is still refused. The
  login page posts the secret to /auth/login, which sets the cookie; wrong secrets are rate-limited
  per client address (server/login_limit.py). The secret must be at least MIN_SERVER_SECRET long.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode, urlsplit

from flask import Flask, current_app, redirect, request

from .errors import error_response
from .launch_secret import MIN_SERVER_SECRET, new_token, server_secret_problem  # noqa: F401 - part of this API
from .login_limit import AttemptLimiter

TOKEN_HEADER = "X-Workbench-Token"
TOKEN_COOKIE = "lw_token"
PROTECTED_PREFIXES = ("/api/", "/media/", "/ws")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
AUTH_PREFIX = "/auth/"
def _host_name(host: str) -> str:
    host = (host or "").strip().lower()
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def is_loopback_host(host: str) -> bool:
    return _host_name(host) in LOOPBACK_HOSTS


def host_name(name: str) -> str:
    """How an --allowed-host is compared: lower case, without a port; an IPv6 address in brackets."""
    name = (name or "").strip().lower()
    if name.count(":") > 1 and not name.startswith("["):
        return f"[{name}]"
    return _host_name(name)


def is_allowed_host(host: str) -> bool:
    return is_loopback_host(host) or _host_name(host) in current_app.config.get("WORKBENCH_ALLOWED_HOSTS", ())


def _via_local_proxy() -> bool:
    remote = request.remote_addr or ""
    return remote.startswith("127.") or remote == "::1"


def client_address() -> str:
    """The address a rate limit counts against. Behind a reverse proxy on this machine every request
    comes from loopback: the proxy's X-Forwarded-For then names the client, and its LAST entry is the
    one the proxy added itself (a client can only prepend made-up ones)."""
    remote = request.remote_addr or ""
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and _via_local_proxy():
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return remote


def _limiter() -> AttemptLimiter | None:
    return current_app.extensions.get("workbench_login_limit")


def attempt(token: str | None):
    """Check a presented secret: None when it is right, else the error response (401, or 429 while
    this address is locked out). Wrong secrets count against the address in server mode."""
    limiter = _limiter()
    address = client_address()
    if limiter is not None and token:
        wait = limiter.retry_after(address)
        if wait is not None:
            body, status = error_response("too_many_attempts",
                                          f"Too many wrong launch secrets from this address; try again in {wait} s.",
                                          429, details={"retry_after": wait})
            body.headers["Retry-After"] = str(wait)
            return body, status
    if token_ok(token):
        return None
    if limiter is not None and token:
        limiter.failed(address, token)
    if not token:
        return error_response(
            "unauthorized",
            "Missing or wrong launch secret. Open the address the launcher printed (it contains ?token=...).",
            401,
        )
    return error_response("unauthorized", "Wrong launch secret.", 401)


def set_secret_cookie(resp, token: str):
    # Secure when the browser reached us over https (directly, or through a TLS proxy on this machine
    # that says so in X-Forwarded-Proto), so the cookie is never sent back in clear.
    https = request.is_secure or (_via_local_proxy() and request.headers.get("X-Forwarded-Proto", "").lower() == "https")
    resp.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict", path="/", secure=https)
    return resp


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


def install(app: Flask, *, server_mode: bool = False, allowed_hosts=()) -> None:
    app.config["WORKBENCH_SERVER_MODE"] = server_mode
    app.config["WORKBENCH_ALLOWED_HOSTS"] = frozenset(host_name(h) for h in allowed_hosts if host_name(h))
    if server_mode:
        app.extensions["workbench_login_limit"] = AttemptLimiter()

    @app.before_request
    def _guard():
        if not is_allowed_host(request.host):
            hint = (f" To reach it as {_host_name(request.host)}, start it with --allowed-host {_host_name(request.host)}."
                    if server_mode else "")
            return error_response("bad_host", "Requests must be addressed to 127.0.0.1 or localhost." + hint, 403)
        origin = request.headers.get("Origin")
        if origin and origin != "null" and not is_allowed_host(urlsplit(origin).netloc):
            return error_response("bad_origin", "Cross-site requests are not allowed.", 403)

        path = request.path
        if path.startswith(AUTH_PREFIX):
            # The login form's own route (server/api/auth.py) checks the secret and the rate limit;
            # like every other request it must come from our own origin.
            if origin and (origin == "null" or urlsplit(origin).netloc.lower() != (request.host or "").lower()):
                return error_response("bad_origin", "Cross-origin requests are not allowed.", 403)
            return None
        protected = path == "/ws" or path.startswith(PROTECTED_PREFIXES)
        if protected:
            refused = attempt(presented_token())
            if refused is not None:
                return refused
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
            refused = attempt(request.args.get("token"))
            if refused is not None:
                return refused
            query = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "token"])
            # "//host/..." would be a link to another site: always stay on this server.
            resp = redirect("/" + path.lstrip("/\\") + ("?" + query if query else ""))
            return set_secret_cookie(resp, request.args["token"])
        return None
