"""What a zh-CN screen must not show: English sentences (an untranslated server message, a missed i18n string).

A heuristic over the visible text, tuned to flag sentences and to pass the English a Chinese screen legitimately
shows: model and tool names (Qwen-Image LoRA, musubi-tuner, NVIDIA), file names, units, user text (captions live
in text boxes, which are skipped, as are code, paths in <code>, and the terminal). A run is flagged when it has
at least four Latin words in a row, one of them an English function word and one a verb or negation that only a
sentence has ("No NVIDIA GPU was found", "Choose the model file first").

A running job's progress line is short and has neither ("Importing", "Caching latents…", "Download musubi-tuner",
"Install PyTorch (cu128)", "Done"): a text that starts with an English progress word (a gerund, or a step's verb
followed by what it acts on) or is one of the words a finished job says is flagged too.

A failed job's raw error opens with a Python exception's class ("RuntimeError: pip install torch failed (exit
code 1)"), which may have no function word at all: a text that opens that way is flagged as well.
"""

from __future__ import annotations

import re

FUNCTION_WORDS = {"a", "an", "the", "is", "are", "was", "were", "be", "been", "not", "no", "to", "of", "in", "on",
                  "for", "with", "from", "this", "that", "it", "its", "can", "cannot", "could", "has", "have", "had",
                  "and", "or", "there", "first", "please", "your", "you", "will", "must", "only", "than", "what",
                  "which", "does", "did", "do", "any", "these", "those", "here", "by", "at", "as", "so"}
SENTENCE_WORDS = {"is", "are", "was", "were", "be", "been", "not", "no", "cannot", "can", "could", "has", "have",
                  "had", "must", "does", "did", "do", "there", "please", "will", "choose", "give", "set", "use",
                  "send", "stop", "failed", "found", "needs"}
WORD_RUN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ ,;:]+[A-Za-z][A-Za-z'’]*)+")
# a progress line: "Importing", "Generating thumbnails…", "Loading WD14…" (a capitalized gerund opens the text),
# "Install PyTorch (cu128)", "Switch to the checked version" (a step's verb, then a word), "Done", "Converted",
# a rate "3/10 · 0.52 items/s · 12 s left"
PROGRESS = re.compile(r"^(?:[A-Z][a-z]{3,}ing\b|(?:Download|Fetch|Unpack|Switch|Move|Create|Install|Check|Put|Convert|"
                      r"Cache|Generate|Import|Prepare|Load|Test)\s+[A-Za-z(]|(?:Done|Converted|Cancelled|Failed)\b\.?$|"
                      r"Test (?:passed|failed)\b|.*\b(?:items/s|s left)\b)")

# a raw Python exception as a job's or a tool's error text: "RuntimeError: ...", "JobError: ...", "OSError: [Errno 2]"
EXCEPTION = re.compile(r"^(?:[A-Z][A-Za-z]*(?:Error|Exception|Failed)|JobCancelled): ")

VISIBLE_TEXT = """(root) => {
    const skip = 'code, pre, textarea, input, select, script, style, svg, .xterm, [data-user-text]';
    const out = [];
    const walk = document.createTreeWalker(root || document.body, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) {
        const node = walk.currentNode, el = node.parentElement;
        const s = node.textContent.trim();
        if (!s || !el || el.closest(skip)) continue;
        if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
        out.push(s);
    }
    return out;
}"""


def english_sentences(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        if PROGRESS.match(text) or EXCEPTION.match(text):
            found.append(text)
            continue
        for m in WORD_RUN.finditer(text):
            words = [w.lower() for w in re.split(r"[ ,;:]+", m.group(0)) if w]
            if len(words) < 4:
                continue
            if any(w in FUNCTION_WORDS for w in words) and any(w in SENTENCE_WORDS for w in words):
                found.append(text)
                break
    return found


def assert_no_english(page, root: str | None = None) -> None:
    """Fail when the page (meant to be in zh-CN), or the part of it under `root`, shows an English sentence."""
    texts = page.locator(root).evaluate(VISIBLE_TEXT) if root else page.evaluate(VISIBLE_TEXT)
    found = english_sentences(texts)
    assert not found, f"English sentences on a zh-CN screen: {found}"
