"""JSON over HTTP with retries, for remote captioning APIs (standard library only).

429 and 5xx answers are retried with exponential backoff (or the server's Retry-After); any
other failure raises HttpFailure with the server's own message. The API key never appears in a
message: every text that leaves this module goes through `mask_in`.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from ..settings import mask_secret

MAX_RETRY_AFTER = 120.0  # seconds; a server asking for longer is treated as a failure sooner or later


class HttpFailure(Exception):
    """A request that did not produce a usable JSON answer; `message` is safe to show and log."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "http_error"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


@dataclass
class RetryPolicy:
    max_retries: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        # Jitter keeps parallel workers that were throttled together from retrying together.
        backoff = self.base_delay * (2 ** attempt)
        return min(self.max_delay, backoff + random.uniform(0, backoff / 4))


# A run of this many characters of the key counts as the key: servers quote a prefix ("Incorrect API
# key provided: sk-abc1...") or the key cut at their own length limit, and a piece of a key narrows
# down the rest. Shorter runs are common in ordinary text ("sk-", "Bearer").
ECHO_MIN = 6
PARTIAL_MASK = "•" * 6


def mask_in(text: str, secret: str | None) -> str:
    """`text` with the key, and every run of ECHO_MIN or more of its characters, masked."""
    # The key is sent stripped (Authorization: Bearer <key>), so a server quotes it stripped: mask
    # both the key as saved (a pasted key often ends in a space or line break) and as sent.
    keys = sorted({secret or "", (secret or "").strip()}, key=len, reverse=True)
    for key in keys:
        if 4 <= len(key) < ECHO_MIN:  # too short for partial matching: only the whole key
            text = text.replace(key, mask_secret(key))
    keys = [k for k in keys if len(k) >= ECHO_MIN]
    if not keys or not text:
        return text
    out, i, n = [], 0, len(text)
    while i < n:
        run = 0
        for key in keys:
            if i + ECHO_MIN <= n and text[i:i + ECHO_MIN] in key:
                end = i + ECHO_MIN
                while end < n and text[i:end + 1] in key:
                    end += 1
                run = max(run, end - i)
        if run:
            piece = text[i:i + run]
            out.append(mask_secret(piece) if piece in keys else PARTIAL_MASK)
            i += run
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def post_json(url: str, body: dict, *, headers: dict, timeout: float, retry: RetryPolicy,
              secret: str | None = None, stop: threading.Event | None = None) -> dict:
    """POST `body` as JSON and return the decoded JSON answer, retrying throttling and server errors."""
    data = json.dumps(body).encode("utf-8")
    stop = stop or threading.Event()
    attempt = 0
    while True:
        request = urllib.request.Request(url, data=data, method="POST",
                                         headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                return _decode(resp.status, resp.read(), secret)
        except urllib.error.HTTPError as exc:
            status, raw, retry_after = exc.code, _read(exc), parse_retry_after(exc.headers.get("Retry-After"))
            if not _retryable(status) or attempt >= retry.max_retries:
                raise _failure(status, raw, secret, attempt) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (TimeoutError, socket.timeout)):
                raise HttpFailure(f"No answer from the server within {timeout:g} s.", code="timeout") from None
            raise HttpFailure(mask_in(f"Cannot reach {url}: {reason}", secret), code="unreachable") from None
        except (TimeoutError, socket.timeout):
            raise HttpFailure(f"No answer from the server within {timeout:g} s.", code="timeout") from None
        except (ConnectionError, http.client.HTTPException) as exc:
            raise HttpFailure(mask_in(f"The connection to {url} failed: {exc}", secret),
                              code="connection_failed") from None
        except ValueError:
            # http.client refuses a header with a line break by quoting it (the key, escaped, so masking
            # cannot find it) in its message: say what is wrong without repeating it.
            raise HttpFailure("The request could not be sent: the URL or the API key contains characters "
                              "that are not allowed (spaces, line breaks).", code="bad_request") from None
        if stop.wait(retry.delay(attempt, retry_after)):
            raise HttpFailure("Cancelled while waiting to retry.", code="cancelled")
        attempt += 1


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _retryable(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def _read(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read() or b""
    except OSError:
        return b""


def _decode(status: int, raw: bytes, secret: str | None) -> dict:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        # Mask before cutting: a key across the cut would otherwise show all but its last characters.
        snippet = mask_in(raw.decode("utf-8", "replace"), secret)[:200]
        raise HttpFailure(f"The server's answer is not JSON (HTTP {status}): {snippet!r}",
                          status=status, code="malformed_answer") from None


def server_message(raw: bytes, secret: str | None = None) -> str:
    """The human part of an error body: OpenAI/DashScope `{"error": {"message"}}`, Gemini's list form, or text.
    With `secret`, it is masked before anything is cut short (a cut could split the key and hide it)."""
    text = raw.decode("utf-8", "replace").strip()
    try:
        doc = json.loads(text)
    except ValueError:
        return mask_in(text, secret)[:300]
    return mask_in(server_message_from(doc, secret) or text, secret)[:300]


def server_message_from(doc, secret: str | None = None) -> str:
    """The message inside an already decoded error document ('' when there is none), `secret` masked."""
    if isinstance(doc, list) and doc:
        doc = doc[0]
    if isinstance(doc, dict):
        err = doc.get("error", doc)
        if isinstance(err, dict):
            msg = err.get("message") or err.get("msg") or err.get("detail")
            if msg:
                return mask_in(str(msg), secret)[:500]
        elif isinstance(err, str):
            return mask_in(err, secret)[:500]
        if isinstance(doc.get("message"), str):
            return mask_in(doc["message"], secret)[:500]
    return ""


def _failure(status: int, raw: bytes, secret: str | None, attempt: int) -> HttpFailure:
    message = server_message(raw, secret) or "no details"
    prefix = f"HTTP {status}"
    if _retryable(status) and attempt:
        prefix += f" after {attempt} retr{'y' if attempt == 1 else 'ies'}"
    code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "rate_limited"}.get(status, "http_error")
    return HttpFailure(mask_in(f"{prefix}: {message}", secret), status=status, code=code)
