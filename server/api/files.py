"""The server's folder browser and downloads (server/system/browse.py, zipstream.py).

GET /api/files/roots                       {roots: [path...]} the folders one may browse
GET /api/files/list?path=&kind=&hidden=    a folder's entries (kind: any | folder | model); 403 path_outside_roots
GET /api/files/download?path=              a file (Range requests: a broken download resumes) or a folder
                                           as a zip streamed while it is written
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, request, send_file

from ..services import services
from ..errors import NotFound
from ..system import browse, zipstream

bp = Blueprint("files", __name__)


def _roots():
    svc = services()
    return browse.roots(svc.layout, svc.store)


def send_path(path: Path, name: str | None = None):
    """A download of `path`: the file itself, or a folder as `<name>.zip`."""
    path = Path(path)
    if path.is_file():
        return send_file(path, as_attachment=True, download_name=name or path.name, conditional=True,
                         max_age=0)
    if not path.is_dir():
        raise NotFound("No such file or folder.", code="path_not_found")
    name = name or path.name or "folder"
    resp = Response(zipstream.stream_zip(path, name), mimetype="application/zip")
    resp.headers.set("Content-Disposition", "attachment", filename=f"{name}.zip")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/files/roots")
def roots():
    return {"roots": [str(r) for r in _roots()]}


@bp.get("/files/list")
def listing():
    args = request.args
    return browse.listing(_roots(), args.get("path", ""), args.get("kind", "any"),
                          hidden=args.get("hidden") in ("1", "true"))


@bp.get("/files/download")
def download():
    path, _root = browse.inside_roots(_roots(), request.args.get("path", ""))
    return send_path(path)
