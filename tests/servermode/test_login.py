"""Server mode's guard: allowed hosts, the login route, its cookie and the brute-force limit."""

from __future__ import annotations

from server import security
from server.login_limit import MAX_FAILURES, AttemptLimiter
from tests.conftest import TOKEN
from tests.servermode.conftest import ALLOWED, SECRET, open_as


def test_allowed_host_works_with_the_secret_and_other_hosts_stay_refused(remote):
    assert open_as(remote, "GET", "/api/health").status_code == 401
    ok = open_as(remote, "GET", "/api/health", headers={"X-Workbench-Token": SECRET})
    assert ok.status_code == 200 and ok.json["server_mode"] is True
    assert open_as(remote, "GET", "/api/health", host="127.0.0.2:8765", headers={"X-Workbench-Token": SECRET}).status_code == 200
    for host in ("evil.example.com", "gpu.example.org.evil.com", "10.0.0.8"):
        resp = open_as(remote, "GET", "/api/health", host=host, headers={"X-Workbench-Token": SECRET})
        assert resp.status_code == 403 and resp.json["error"]["code"] == "bad_host", host
    # a page of another site cannot call us even when the browser brings our cookie
    resp = open_as(remote, "GET", "/api/health", headers={"X-Workbench-Token": SECRET, "Origin": "https://evil.com"})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "bad_origin"


def test_default_mode_still_refuses_every_non_loopback_host(client):
    resp = client.get("/api/health", base_url=f"http://{ALLOWED}", headers={"X-Workbench-Token": TOKEN})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "bad_host"
    # and never rate-limits: no lockout of the local user by a local page sending wrong secrets
    for i in range(MAX_FAILURES + 2):
        client.get("/api/health", headers={"X-Workbench-Token": f"wrong-{i}"})
    assert client.get("/api/health", headers={"X-Workbench-Token": TOKEN}).status_code == 200


def test_login_sets_a_strict_httponly_cookie_that_opens_the_api(remote):
    assert open_as(remote, "GET", "/auth/mode").json == {"server_mode": True}
    resp = open_as(remote, "POST", "/auth/login", json={"secret": SECRET}, headers={"Origin": f"http://{ALLOWED}"})
    assert resp.status_code == 200
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith(f"{security.TOKEN_COOKIE}={SECRET};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
    assert open_as(remote, "GET", "/api/settings").status_code == 200
    assert open_as(remote, "POST", "/auth/logout").status_code == 200
    assert open_as(remote, "GET", "/api/settings").status_code == 401
    # behind a TLS proxy on this machine the cookie is Secure; a client's own claim of https is not trusted
    via_proxy = open_as(remote, "POST", "/auth/login", json={"secret": SECRET}, addr="127.0.0.1",
                        headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in via_proxy.headers["Set-Cookie"]
    direct = open_as(remote, "POST", "/auth/login", json={"secret": SECRET}, headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in direct.headers["Set-Cookie"]


def test_login_refuses_wrong_missing_and_cross_site(remote):
    resp = open_as(remote, "POST", "/auth/login", json={"secret": "nope"})
    assert resp.status_code == 401 and resp.json["error"]["code"] == "unauthorized"
    assert "Set-Cookie" not in resp.headers
    resp = open_as(remote, "POST", "/auth/login", json={})
    assert resp.status_code == 422 and resp.json["error"]["code"] == "secret_missing"
    resp = open_as(remote, "POST", "/auth/login", json={"secret": SECRET}, headers={"Origin": "http://evil.com"})
    assert resp.status_code == 403 and "Set-Cookie" not in resp.headers


def test_brute_force_is_locked_out_per_address(remote):
    for i in range(MAX_FAILURES):
        assert open_as(remote, "POST", "/auth/login", json={"secret": f"guess-{i}"}).status_code == 401
    resp = open_as(remote, "POST", "/auth/login", json={"secret": SECRET})
    assert resp.status_code == 429 and resp.json["error"]["code"] == "too_many_attempts"
    assert 0 < resp.json["error"]["details"]["retry_after"] <= 15 * 60
    assert int(resp.headers["Retry-After"]) == resp.json["error"]["details"]["retry_after"]
    # every other way of presenting a secret is locked out too, not only the login form
    assert open_as(remote, "GET", "/api/health", headers={"X-Workbench-Token": SECRET}).status_code == 429
    assert open_as(remote, "GET", f"/?token={SECRET}").status_code == 429
    # another address is not affected
    assert open_as(remote, "POST", "/auth/login", json={"secret": SECRET}, addr="198.51.100.7").status_code == 200


def test_one_stale_secret_repeated_is_not_a_brute_force(remote):
    for _ in range(MAX_FAILURES * 2):
        assert open_as(remote, "GET", "/api/health", headers={"X-Workbench-Token": "yesterdays-secret"}).status_code == 401
    assert open_as(remote, "GET", "/api/health", headers={"X-Workbench-Token": SECRET}).status_code == 200


def test_proxy_forwarded_address_counts_only_its_last_entry(remote):
    for i in range(MAX_FAILURES):
        open_as(remote, "POST", "/auth/login", json={"secret": f"g{i}"}, addr="127.0.0.1",
                headers={"X-Forwarded-For": f"10.9.9.{i}, 203.0.113.9"})  # made-up first entries change
    assert open_as(remote, "POST", "/auth/login", json={"secret": SECRET}, addr="127.0.0.1",
                   headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429
    assert open_as(remote, "POST", "/auth/login", json={"secret": SECRET}, addr="127.0.0.1",
                   headers={"X-Forwarded-For": "203.0.113.10"}).status_code == 200


def test_limiter_lets_an_address_back_after_the_window():
    now = [1000.0]
    lim = AttemptLimiter(max_failures=3, window_s=60, clock=lambda: now[0])
    for i in range(3):
        lim.failed("a", f"x{i}")
        now[0] += 10
    assert lim.retry_after("a") == 30  # now 1030; the first failure leaves the window at 1060
    now[0] = 1060
    assert lim.retry_after("a") is None


def test_short_secret_refused_for_server_mode():
    assert security.server_secret_problem("short")
    assert security.server_secret_problem("x" * security.MIN_SERVER_SECRET) is None
