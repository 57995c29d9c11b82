"""The login page's routes (outside /api: they work without the secret).

POST /auth/login   {secret} -> sets the HttpOnly, SameSite=Strict cookie; 401 unauthorized when wrong,
                   429 too_many_attempts (details.retry_after) while this address is locked out
POST /auth/logout  drops the cookie
GET  /auth/mode    {server_mode} -> what the login page says (no secret needed, nothing private)
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .. import security
from ..errors import ValidationError, json_body

bp = Blueprint("auth", __name__)


@bp.post("/login")
def login():
    secret = json_body().get("secret")
    if not isinstance(secret, str) or not secret.strip():
        raise ValidationError("Enter the launch secret.", field="secret", code="secret_missing")
    secret = secret.strip()
    refused = security.attempt(secret)
    if refused is not None:
        return refused
    return security.set_secret_cookie(jsonify({"ok": True}), secret)


@bp.post("/logout")
def logout():
    resp = jsonify({"ok": True})
    resp.delete_cookie(security.TOKEN_COOKIE, path="/", httponly=True, samesite="Strict")
    return resp


@bp.get("/mode")
def mode():
    return {"server_mode": bool(current_app.config.get("WORKBENCH_SERVER_MODE"))}
