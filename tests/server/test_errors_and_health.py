"""JSON errors everywhere, and /api/health."""

from __future__ import annotations

from server.errors import ApiError


def test_health(api, data_dir):
    body = api.get("/api/health").json
    assert body["status"] == "ok"
    assert body["version"]
    assert body["data_dir"] == str(data_dir)
    assert body["uptime_s"] >= 0
    assert body["schema_version"] >= 1


def test_unknown_api_route_is_json_404(api):
    resp = api.get("/api/does-not-exist")
    assert resp.status_code == 404
    assert resp.is_json and resp.json["error"]["code"] == "not_found"


def test_wrong_method_is_json_405(api):
    resp = api.delete("/api/health")
    assert resp.status_code == 405
    assert resp.json["error"]["code"] == "method_not_allowed"


def test_invalid_json_body(api):
    resp = api.patch("/api/settings", data="{not json", content_type="application/json")
    assert resp.status_code == 400
    assert resp.json["error"]["code"] == "invalid_json"
    resp = api.patch("/api/settings", json=[1, 2])
    assert resp.status_code == 400


def test_unexpected_exception_is_json_500(app, api):
    @app.get("/api/test-boom")
    def boom():
        raise RuntimeError("kaput")

    resp = api.get("/api/test-boom")
    assert resp.status_code == 500
    assert resp.json["error"]["code"] == "internal_error"
    assert "kaput" in resp.json["error"]["message"]


def test_api_error_carries_code_status_and_details(app, api):
    @app.get("/api/test-api-error")
    def api_error():
        raise ApiError("Pick a dataset first.", code="no_dataset", status=422, details={"field": "dataset"})

    resp = api.get("/api/test-api-error")
    assert resp.status_code == 422
    assert resp.json == {"error": {"code": "no_dataset", "message": "Pick a dataset first.",
                                   "details": {"field": "dataset"}}}
