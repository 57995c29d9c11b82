"""API blueprints. Each stays thin: parse the request, call a logic module, return JSON."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import app_control, health, jobs, settings, ws

    for module in (health, settings, jobs, app_control):
        app.register_blueprint(module.bp, url_prefix="/api")
    ws.register(app)
