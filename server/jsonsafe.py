"""What JSON may carry into and out of the app.

In: request bodies are refused once, here, when they could break code further on: nesting deeper
than MAX_DEPTH (Python's parser and every recursive walk after it raise RecursionError), numbers
that are not finite (NaN, Infinity, 1e400 parse to floats no validator expects and no JSON encoder
may write back) and lone UTF-16 surrogates (`"\\ud800"` parses to a str that sqlite, files and the
UTF-8 response encoder all refuse, each with a 500).

Out: rows stored before this check existed may still hold such text (JSON columns keep the
`\\ud800` escape). Every response and websocket message goes through `dumps()`, which writes a
lone surrogate as U+FFFD, so one bad row cannot break a list or drop a subscriber for good.
"""

from __future__ import annotations

import json
import math
import re

from flask.json.provider import DefaultJSONProvider

from .errors import ApiError, ValidationError

# Real requests nest a few levels (a task's settings, a filter); 64 leaves room and stays far below
# Python's recursion limit for the walks that follow.
MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(text: str) -> bool:
    # Python's json joins a valid escaped pair into one code point, so any surrogate left is lone.
    return not text.isascii() and _SURROGATE.search(text) is not None


def scrub(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD (the Unicode replacement character)."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def _where(path: list) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "(body)"


def check(data) -> None:
    """Raise a 4xx ApiError when parsed JSON holds something the app must not accept (see above).
    Iterative, so that the walk itself cannot hit the recursion limit."""
    stack = [(data, [], 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if has_lone_surrogate(value):
                raise ValidationError("Text contains an invalid character (a lone UTF-16 surrogate).",
                                      code="invalid_text", field=_where(path))
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValidationError("Numbers must be finite (no NaN, Infinity or values beyond 1e308).",
                                      code="invalid_number", field=_where(path))
        elif isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise ApiError(f"The request body is nested more than {MAX_DEPTH} levels deep.",
                               code="json_too_deep")
            if isinstance(value, dict):
                for key, item in value.items():
                    if has_lone_surrogate(key):
                        raise ValidationError("A key contains an invalid character (a lone UTF-16 surrogate).",
                                              code="invalid_text", field=_where(path))
                    stack.append((item, path + [key], depth + 1))
            else:
                stack.extend((item, path + [i], depth + 1) for i, item in enumerate(value))


def loads(text: str | bytes):
    """Parse and `check()` a JSON document; ApiError (400/422) instead of ValueError/RecursionError."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ApiError(f"The request body is nested more than {MAX_DEPTH} levels deep.",
                       code="json_too_deep") from None
    except ValueError:
        raise ApiError("The request body is not valid JSON.", code="invalid_json") from None
    check(data)
    return data


def dumps(obj, **kwargs) -> str:
    """json.dumps for what the app sends: UTF-8 text as is, lone surrogates as U+FFFD."""
    kwargs.setdefault("ensure_ascii", False)
    return scrub(json.dumps(obj, **kwargs))


class JSONProvider(DefaultJSONProvider):
    """Flask's provider, writing responses through `dumps()`."""

    ensure_ascii = False
    sort_keys = False

    def dumps(self, obj, **kwargs) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return scrub(json.dumps(obj, **kwargs))
