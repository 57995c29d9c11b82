"""Tags inside caption text, as pure functions: caption in, caption out.

A caption is a comma-separated list of tags (booru style); tags are split on commas and trimmed,
and written back joined by ", ". Every batch operation is `OPS[name](caption, **params) -> caption`,
so the same code serves one item, a selection, or the whole dataset, and undo only needs the
before/after text. Free-text operations (replace_text, set/prepend/append) leave non-tag captions
intact.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Callable

from ..errors import ValidationError
from .limits import MAX_CAPTION_BYTES

SEP = ", "
MAX_REGEX = 500


def split_tags(caption: str) -> list[str]:
    return [t for t in map(str.strip, (caption or "").split(",")) if t]   # one strip per tag: every grid row calls this


def join_tags(tags: list[str]) -> str:
    return SEP.join(tags)


def _tag_list(value, field: str = "tags") -> list[str]:
    """Accept ["a", "b"] or "a, b"; refuse empty input so a typo never becomes a silent no-op."""
    if isinstance(value, str):
        tags = split_tags(value)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        tags = [t for v in value for t in split_tags(v)]
    else:
        raise ValidationError("Give the tags as a list of strings.", field=field, code="bad_tags")
    if not tags:
        raise ValidationError("Give at least one tag.", field=field, code="bad_tags")
    return tags


def _one_tag(value, field: str) -> str:
    tags = _tag_list(value, field)
    if len(tags) != 1:
        raise ValidationError("Give exactly one tag (without commas).", field=field, code="bad_tags")
    return tags[0]


def add_tags(caption: str, tags, position: str = "end") -> str:
    new = _tag_list(tags)
    current = split_tags(caption)
    missing = [t for t in dict.fromkeys(new) if t not in current]
    if position == "start":
        return join_tags(missing + current)
    if position != "end":
        raise ValidationError("position must be 'start' or 'end'.", field="position", code="bad_position")
    return join_tags(current + missing)


def remove_tags(caption: str, tags) -> str:
    drop = set(_tag_list(tags))
    return join_tags([t for t in split_tags(caption) if t not in drop])


def replace_tag(caption: str, old, new="") -> str:
    """Exact tag A -> B; an empty B removes A; a B already present is not doubled."""
    old = _one_tag(old, "old")
    new = split_tags(new) if isinstance(new, str) else _tag_list(new, "new")
    out: list[str] = []
    for t in split_tags(caption):
        for r in (new if t == old else [t]):
            if r not in out:
                out.append(r)
    return join_tags(out)


def compile_pattern(find, regex: bool, case_sensitive: bool) -> re.Pattern:
    if not isinstance(find, str) or not find:
        raise ValidationError("Give the text to find.", field="find", code="find_required")
    if len(find) > MAX_REGEX:
        raise ValidationError("The search text is too long.", field="find", code="find_too_long")
    flags = 0 if case_sensitive else re.IGNORECASE
    try:
        return re.compile(find if regex else re.escape(find), flags)
    except re.error as exc:
        raise ValidationError(f"The regular expression is not valid: {exc}.", field="find", code="bad_regex") from exc


def replace_text(caption: str, find, replace: str = "", regex: bool = False, case_sensitive: bool = True) -> str:
    pattern = compile_pattern(find, bool(regex), bool(case_sensitive))
    try:
        return pattern.sub(str(replace or ""), caption or "")
    except (re.error, IndexError) as exc:  # bad group reference in the replacement
        raise ValidationError(f"The replacement is not valid: {exc}.", field="replace", code="bad_regex") from exc


def move_to_front(caption: str, tag, add_if_missing: bool = False) -> str:
    tag = _one_tag(tag, "tag")
    current = split_tags(caption)
    if tag not in current and not add_if_missing:
        return caption or ""
    return join_tags([tag] + [t for t in current if t != tag])


def dedupe(caption: str) -> str:
    return join_tags(list(dict.fromkeys(split_tags(caption))))


def sort_tags(caption: str, keep_first: int = 0, reverse: bool = False) -> str:
    """Alphabetical (case-insensitive); `keep_first` pins leading tags such as a trigger word."""
    tags = split_tags(caption)
    try:
        keep = max(0, int(keep_first or 0))
    except (TypeError, ValueError):
        raise ValidationError("keep_first must be a number.", field="keep_first", code="bad_number") from None
    return join_tags(tags[:keep] + sorted(tags[keep:], key=str.casefold, reverse=bool(reverse)))


def _text(value, field: str = "text") -> str:
    if not isinstance(value, str):
        raise ValidationError("Give the text as a string.", field=field, code="bad_text")
    if len(value) > MAX_CAPTION_BYTES or len(value.encode("utf-8", "surrogatepass")) > MAX_CAPTION_BYTES:
        raise ValidationError(f"A caption may be at most {MAX_CAPTION_BYTES // 1024} KB.", field=field,
                              code="caption_too_large", details={"max_bytes": MAX_CAPTION_BYTES})
    return value.replace("\r\n", "\n").replace("\r", "\n")


def set_caption(caption: str, text) -> str:
    return _text(text)


def prepend(caption: str, text, separator: str = SEP) -> str:
    text = _text(text)
    caption = caption or ""
    if not text.strip():
        return caption
    return text + (str(separator) + caption if caption.strip() else "")


def append(caption: str, text, separator: str = SEP) -> str:
    text = _text(text)
    caption = caption or ""
    if not text.strip():
        return caption
    return (caption.rstrip() + str(separator) if caption.strip() else "") + text


def clear(caption: str) -> str:
    return ""


OPS: dict[str, Callable[..., str]] = {
    "add_tags": add_tags, "remove_tags": remove_tags, "replace_tag": replace_tag, "replace_text": replace_text,
    "move_to_front": move_to_front, "dedupe": dedupe, "sort": sort_tags, "set": set_caption,
    "prepend": prepend, "append": append, "clear": clear,
}
LABELS = {
    "add_tags": "Add tags", "remove_tags": "Remove tags", "replace_tag": "Replace tag",
    "replace_text": "Replace text", "move_to_front": "Move tag to front", "dedupe": "Remove duplicate tags",
    "sort": "Sort tags", "set": "Set caption", "prepend": "Prepend to caption", "append": "Append to caption",
    "clear": "Clear caption",
}


def op_function(op: str, params: dict) -> Callable[[str], str]:
    """A one-argument function for `op` with its params bound, validated once up front."""
    fn = OPS.get(op) if isinstance(op, str) else None
    if fn is None:
        raise ValidationError(f"Unknown operation {op!r}.", field="op", code="bad_op",
                              details={"known": sorted(OPS)})
    params = dict(params or {})
    try:
        fn("probe, tag", **params)  # fail on bad params before touching any file
    except TypeError as exc:
        raise ValidationError(f"Wrong parameters for {op}: {exc}.", field="params", code="bad_params") from exc
    return lambda caption: fn(caption or "", **params)


def frequency(captions) -> Counter:
    counts: Counter = Counter()
    for caption in captions:
        counts.update(set(split_tags(caption or "")))
    return counts
