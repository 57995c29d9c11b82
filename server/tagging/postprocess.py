"""What happens to a backend's caption before it is written: clean-up, trigger word, write mode.

Pure functions, caption in, caption out. Tag captions are comma-separated lists (split and joined
by the dataset module's own tag functions, so the grid and the tag editor read them the same way);
text captions are sentences. Clean-up touches only what the backend produced, never the user's text.

Modes:
    overwrite   the new caption replaces the old one
    append      the new caption is added after the old one (tags not already there, or the text)
    only_empty  items that already have a caption are left alone
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..datasets.tags import join_tags, split_tags

# In the order the settings page and the auto-tag dialog offer them: the safe default first.
MODES = ("only_empty", "append", "overwrite")


@dataclass(frozen=True)
class PostProcess:
    strip: bool = True
    dedupe: bool = True
    blacklist: tuple[str, ...] = field(default_factory=tuple)
    trigger: str = ""
    prefix_trigger: bool = True


def _norm(tag: str) -> str:
    # "long_hair" and "Long Hair" are the same tag to a user typing a blacklist.
    return " ".join(tag.replace("_", " ").split()).casefold()


def clean_tags(caption: str, pp: PostProcess) -> str:
    tags = split_tags(caption) if pp.strip else [t for t in caption.split(",") if t]
    banned = {_norm(b) for b in pp.blacklist}
    tags = [t for t in tags if _norm(t) not in banned]
    if pp.dedupe:
        seen: set[str] = set()
        tags = [t for t in tags if not (_norm(t) in seen or seen.add(_norm(t)))]
    return join_tags(tags)


def clean_text(caption: str, pp: PostProcess) -> str:
    text = caption
    for phrase in pp.blacklist:
        # Whole words only: blacklisting "cat" must not turn "category" into "egory".
        text = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", "", text, flags=re.I)
    if pp.strip:
        # One paragraph: trainers read the caption file as one prompt, and models love line breaks.
        text = " ".join(line.strip() for line in text.splitlines() if line.strip())
        text = re.sub(r"\s+([,.;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", text))
        text = re.sub(r"(,\s*){2,}", ", ", text).strip(" ,")
    return text


def clean(caption: str, kind: str, pp: PostProcess) -> str:
    return clean_tags(caption, pp) if kind == "tags" else clean_text(caption, pp)


def with_trigger(caption: str, kind: str, pp: PostProcess) -> str:
    """The caption starting with the trigger word (once), when the user asked for it."""
    trigger = pp.trigger.strip()
    if not trigger or not pp.prefix_trigger:
        return caption
    if kind == "tags":
        return join_tags([trigger] + [t for t in split_tags(caption) if _norm(t) != _norm(trigger)])
    head = caption.split(",", 1)[0].strip()
    if _norm(head) == _norm(trigger):
        return caption
    return f"{trigger}, {caption}" if caption else trigger


def merge(mode: str, current: str | None, new: str, kind: str, pp: PostProcess) -> str | None:
    """The caption to write, given what is on disk now; `current` unchanged means "leave it"."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    has_text = bool((current or "").strip())
    if mode == "only_empty" and has_text:
        return current
    if mode == "append" and has_text:
        if kind == "tags":
            old = split_tags(current)
            known = {_norm(t) for t in old}
            combined = join_tags(old + [t for t in split_tags(new) if _norm(t) not in known])
        else:
            combined = f"{current.rstrip()} {new}".strip()
        return with_trigger(combined, kind, pp)
    return with_trigger(new, kind, pp)
