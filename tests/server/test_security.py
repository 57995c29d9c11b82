"""The launch secret and the loopback guard, on every route the app has."""

from __future__ import annotations

import pytest

from tests.conftest import TOKEN


def protected_rules(app):
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if path.startswith(("/api/", "/media/")) or path == "/ws":
            yield rule


def concrete(rule) -> str:
    path = rule.rule
    for arg in rule.arguments:
        path = path.replace(f"<{arg}>", "x").replace(f"<path:{arg}>", "x/y.png")
        for conv in ("int", "string", "float", "path", "uuid"):
            path = path.replace(f"<{conv}:{arg}>", "1" if conv in ("int", "float") else "x")
    return path


def test_every_protected_route_requires_the_secret(app, client):
    rules = list(protected_rules(app))
    assert len(rules) >= 8  # health, settings, jobs, app, system, ws ... and every feature's routes
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            resp = client.open(concrete(rule), method=method)
            assert resp.status_code == 401, (method, rule.rule, resp.status_code)
            assert resp.json["error"]["code"] == "unauthorized"
            resp = client.open(concrete(rule), method=method, headers={"X-Workbench-Token": "wrong"})
            assert resp.status_code == 401, (method, rule.rule)


def test_secret_accepted_as_header_cookie_or_query(client):
    assert client.get("/api/health", headers={"X-Workbench-Token": TOKEN}).status_code == 200
    assert client.get(f"/api/health?token={TOKEN}").status_code == 200
    client.set_cookie("lw_token", TOKEN)
    assert client.get("/api/health").status_code == 200


def test_secret_url_sets_cookie_and_cleans_address(client):
    resp = client.get(f"/?token={TOKEN}")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/"
    cookie = resp.headers["Set-Cookie"]
    assert f"lw_token={TOKEN}" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    # the browser now holds the cookie and the API works without a header
    assert client.get("/api/settings").status_code == 200


def test_wrong_secret_url_is_refused(client):
    resp = client.get("/?token=nope")
    assert resp.status_code == 401
    assert client.get("/api/health").status_code == 401


@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:5000", "192.168.1.10:8000", "0.0.0.0:80"])
def test_non_loopback_host_is_refused(api, host):
    resp = api.get("/api/health", headers={"X-Workbench-Token": TOKEN, "Host": host})
    assert resp.status_code == 403
    assert resp.json["error"]["code"] == "bad_host"


@pytest.mark.parametrize("host", ["127.0.0.1:1234", "localhost:80", "[::1]:9000", "localhost"])
def test_loopback_hosts_are_accepted(api, host):
    assert api.get("/api/health", headers={"X-Workbench-Token": TOKEN, "Host": host}).status_code == 200


def test_cross_site_origin_is_refused(api):
    resp = api.patch("/api/settings", json={"theme": "dark"},
                     headers={"X-Workbench-Token": TOKEN, "Origin": "https://evil.example.com"})
    assert resp.status_code == 403
    assert resp.json["error"]["code"] == "bad_origin"
    ok = api.patch("/api/settings", json={"theme": "dark"},
                   headers={"X-Workbench-Token": TOKEN, "Origin": "http://127.0.0.1:5555"})
    assert ok.status_code == 200


def test_static_ui_is_served_without_secret_but_api_is_not(client, app, tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html>ui</html>")
    (dist / "assets" / "app-123.js").write_text("console.log(1)")
    app.config["UI_DIST"] = dist
    index = client.get("/")
    assert index.status_code == 200 and b"ui" in index.data
    assert index.headers["Cache-Control"] == "no-store"
    asset = client.get("/assets/app-123.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["Cache-Control"]
    # client-side routes fall back to index.html
    assert client.get("/tasks/abc").data == b"<html>ui</html>"
    assert client.get("/api/settings").status_code == 401
