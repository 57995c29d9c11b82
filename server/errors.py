"""One error shape for the whole API: {"error": {"code", "message", "details"?}}.

Logic modules raise ApiError (or a subclass); the app factory turns it, and every
werkzeug HTTPException, into JSON so the UI never has to parse an HTML error page.
"""

from __future__ import annotations

import errno
import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 details: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details or {}

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class ValidationError(ApiError):
    """Input that cannot be accepted; `field` names what the user should fix."""

    status = 422
    code = "validation_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 details: dict | None = None):
        details = dict(details or {})
        if field:
            details["field"] = field
        super().__init__(message, code=code, details=details)


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "validation_error", 429: "too_many_requests",
}


def error_response(code: str, message: str, status: int, details: dict | None = None):
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    return jsonify({"error": body}), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return jsonify(exc.to_dict()), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        return error_response(_HTTP_CODES.get(status, "http_error"), exc.description or exc.name, status)

    @app.errorhandler(Exception)
    def _internal(exc: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response("internal_error", f"Internal error: {type(exc).__name__}: {exc}", 500)

    @app.errorhandler(OSError)
    def _os_error(exc: OSError):
        # A name longer than the file system allows can only come from the request (a path, a file or
        # folder name): the same answer on every route instead of a check before every open().
        if name_too_long(exc):
            return error_response("path_too_long", "A file or folder name or path is too long for the file system.",
                                  422, {"name": _tail(exc.filename)})
        return _internal(exc)


# Windows' ERROR_FILENAME_EXCED_RANGE: Python maps it to ENOENT, not ENAMETOOLONG.
_WIN_FILENAME_EXCED_RANGE = 206


def name_too_long(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and (exc.errno == errno.ENAMETOOLONG
                                         or getattr(exc, "winerror", None) == _WIN_FILENAME_EXCED_RANGE)


def _tail(filename) -> str:
    """The last part of a path, shortened: enough to recognise, without the app's own folders."""
    name = str(filename or "").replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return name if len(name) <= 60 else name[:40] + "…" + name[-12:]


def json_body() -> dict:
    """The request's JSON object, or a clear 4xx when it is missing, not an object, or carries what
    server/jsonsafe.py refuses (too deep, NaN/Infinity, lone surrogates). Every route reads its body
    here, so this is the one place a body is checked."""
    from . import jsonsafe  # noqa: PLC0415 - jsonsafe raises the errors defined here

    if not request.is_json:
        # A form or an upload sent here by mistake: the form parser takes it (files go to temporary files),
        # so it is never read into memory whole. A JSON body skips that parser, which costs more than the
        # JSON's own parsing.
        if request.get_data(cache=True, parse_form_data=True):
            raise ApiError("The request body is not valid JSON.", code="invalid_json")
        return {}
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    data = jsonsafe.loads(raw)
    if not isinstance(data, dict):
        raise ApiError("The request body must be a JSON object.", code="invalid_json")
    return data
