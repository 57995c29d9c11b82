"""API blueprints. Each stays thin: parse the request, call a logic module, return JSON."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import (app_control, auth, datasets, files, health, jobs, media, meta, models, runtime, settings, system,
                   tagging, tasks, uploads, ws)

    for module in (health, meta, settings, jobs, app_control, system, files, uploads):
        app.register_blueprint(module.bp, url_prefix="/api")
    app.register_blueprint(datasets.bp, url_prefix="/api")
    app.register_blueprint(media.bp)
    app.register_blueprint(tagging.bp, url_prefix="/api")
    app.register_blueprint(tasks.bp, url_prefix="/api")
    app.register_blueprint(models.bp, url_prefix="/api")
    app.register_blueprint(runtime.bp, url_prefix="/api")
    app.register_blueprint(auth.bp, url_prefix="/auth")
    ws.register(app)
