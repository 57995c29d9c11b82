"""Serves a folder over HTTP on 127.0.0.1 the way Hugging Face serves `<repo>/resolve/main/<file>`."""

from __future__ import annotations

from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

from tests.local_http import LocalHTTPServer


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def translate_path(self, path):
        # /<owner>/<name>/resolve/main/<file> -> <root>/<owner>/<name>/<file>
        path = path.split("?", 1)[0].replace("/resolve/main/", "/")
        return super().translate_path(path)


class FileServer(LocalHTTPServer):
    def __init__(self, root: Path):
        super().__init__(partial(_Quiet, directory=str(root)))

    @property
    def endpoint(self) -> str:
        return self.root
