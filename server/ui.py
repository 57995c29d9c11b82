"""Serves the built Svelte UI (ui/dist) with a single-page-app fallback.

Hashed assets under /assets are immutable and cached for a year; index.html is never cached
so a new build shows up on the next launch.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, send_from_directory

MISSING_BUILD = """<!doctype html><meta charset="utf-8"><title>LoRA Workbench</title>
<body style="font-family:sans-serif;padding:2em">
<h1>LoRA Workbench</h1><p>The UI has not been built yet. Run <code>npm --prefix ui run build</code>
(or the README's start command), then reload.</p><p>界面尚未构建。请运行 README 中的启动命令后刷新。</p>
</body>"""


def register(app: Flask) -> None:
    @app.get("/assets/<path:filename>")
    def ui_asset(filename: str):
        dist = current_app.config["UI_DIST"]
        resp = send_from_directory(dist / "assets", filename, max_age=31536000)
        resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return resp

    @app.get("/")
    @app.get("/<path:path>")
    def ui_index(path: str = ""):
        if path.startswith(("api/", "media/")):
            abort(404)
        dist = current_app.config["UI_DIST"]
        if path and (dist / path).is_file() and "/" not in path:
            return send_from_directory(dist, path, max_age=3600)
        if not (dist / "index.html").is_file():
            return MISSING_BUILD, 200, {"Content-Type": "text/html; charset=utf-8"}
        resp = send_from_directory(dist, "index.html", max_age=0)
        resp.headers["Cache-Control"] = "no-store"
        return resp
