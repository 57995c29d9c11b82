"""The launch secret and the origin guard: every route, junk secrets, cookie riding from other local pages."""

from __future__ import annotations

import pytest

from tests.conftest import TOKEN

PROTECTED = ("/api/", "/media/")
# The only routes served without the secret: the built UI (no user data in it), and the login page's
# routes (server/api/auth.py: they check the secret themselves, rate-limited; tests/servermode).
PUBLIC_RULES = {"/", "/<path:path>", "/assets/<path:filename>", "/auth/login", "/auth/logout", "/auth/mode"}


def test_every_route_is_protected_or_a_known_ui_route(app):
    """tests/server/test_security.py checks every route under /api, /media and /ws; this closes the gap
    around it: a route added outside those prefixes would not need the secret at all."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        assert rule.rule.startswith(PROTECTED) or rule.rule == "/ws" or rule.rule in PUBLIC_RULES, rule.rule


@pytest.mark.parametrize("path", ["/api/settings", "/media/datasets/ds_00000000/media/a.png", "/ws"])
def test_paths_that_only_look_different_still_need_the_secret(client, path):
    for variant in (path, "/" + path, path + "/", path.replace("/", "/./", 1), path.upper()):
        resp = client.get("/", environ_overrides={"PATH_INFO": variant})
        # A 401/404/redirect, or at most the UI shell (no user data) for paths that are no route of ours.
        assert resp.status_code in (401, 404, 308, 200), (variant, resp.status_code)
        if resp.status_code == 200:
            assert not resp.is_json, variant
            assert "tagging_api_key" not in resp.get_data(as_text=True), variant


@pytest.mark.parametrize("junk", ["é", "tést-secret", "\u2603" * 40, TOKEN + "é"])
def test_non_ascii_secret_is_refused_not_a_crash(client, junk):
    # hmac.compare_digest raises TypeError for non-ASCII str; that was a 500 from the guard itself.
    hdr = client.get("/api/health", headers={"X-Workbench-Token": junk.encode("utf-8").decode("latin-1")})
    assert hdr.status_code == 401 and hdr.get_json()["error"]["code"] == "unauthorized"
    q = client.get("/api/health", query_string={"token": junk})
    assert q.status_code == 401
    page = client.get("/", query_string={"token": junk})
    assert page.status_code == 401
    client.set_cookie("lw_token", junk.encode("utf-8").decode("latin-1"))
    assert client.get("/api/health").status_code == 401


def test_cookie_alone_is_refused_from_another_local_origin(client):
    """Cookies ignore ports: a page of another local program (127.0.0.1:8080) is same-site, so the
    browser adds our lw_token cookie to its requests. With only the cookie, only our origin is allowed."""
    client.set_cookie("lw_token", TOKEN)
    own = {"Host": "localhost:5000"}
    assert client.get("/api/settings", headers=own).status_code == 200  # same-origin GET: no Origin header
    resp = client.patch("/api/settings", json={"theme": "dark"},
                        headers={**own, "Origin": "http://127.0.0.1:8080"})
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "bad_origin"
    resp = client.post("/api/app/open-folder", headers={**own, "Origin": "http://localhost:3000"})
    assert resp.status_code == 403
    ws = client.get("/ws", headers={**own, "Origin": "http://127.0.0.1:8080"})
    assert ws.status_code == 403
    ok = client.patch("/api/settings", json={"theme": "dark"}, headers={**own, "Origin": "http://localhost:5000"})
    assert ok.status_code == 200
    # Knowing the secret (header) is proof enough: the Vite dev server and scripts keep working.
    hdr = client.patch("/api/settings", json={"theme": "light"},
                       headers={**own, "Origin": "http://localhost:5173", "X-Workbench-Token": TOKEN})
    assert hdr.status_code == 200


def test_cookie_alone_is_refused_with_origin_null(client):
    """A sandboxed frame, a data: URL or another local page POSTing through a 307 redirect reaches us
    with our cookie and `Origin: null`: it must not create data or quit the app."""
    client.set_cookie("lw_token", TOKEN)
    own = {"Host": "localhost:5000"}
    null = {**own, "Origin": "null"}
    resp = client.post("/api/datasets", json={"name": "planted", "type": "image"}, headers=null)
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "bad_origin"
    assert client.get("/api/datasets", headers=own).get_json()["datasets"] == []
    assert client.post("/api/app/quit", headers=null).status_code == 403
    assert client.get("/ws", headers=null).status_code == 403
    assert client.get("/api/settings", headers=null).status_code == 403
    # With the secret itself (header or ?token=), `null` is only an odd origin, not a forged request.
    hdr = client.post("/api/datasets", json={"name": "ok", "type": "image"}, headers={**null, "X-Workbench-Token": TOKEN})
    assert hdr.status_code == 201


def test_secret_url_redirect_stays_on_this_server_and_keeps_the_query(client):
    resp = client.get("/", environ_overrides={"PATH_INFO": "//evil.example/x"},
                      query_string=[("token", TOKEN), ("q", "a&b=c"), ("q", "2")])
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith("/") and not location.startswith("//"), location
    assert "token" not in location
    assert location.endswith("?q=a%26b%3Dc&q=2"), location
