"""The WD14 taggers' `selected_tags.csv` and how a prediction vector becomes a tag list.

The CSV (tag_id,name,category,count) has one row per model output, in output order. Categories:
0 general, 4 character, 9 rating. Rating tags ("general", "explicit"...) say how safe an image is,
not what is in it, so they never go into a caption. Underscores become spaces except in kaomoji,
where the underscore is the mouth (`^_^`); this is the list the WD tagger demo itself keeps.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

GENERAL, CHARACTER, RATING = 0, 4, 9

KAOMOJIS = frozenset({
    "0_0", "(o)_(o)", "+_+", "+_-", "._.", "<o>_<o>", "<|>_<|>", "=_=", ">_<", "3_3", "6_9", ">_o",
    "@_@", "^_^", "o_o", "u_u", "x_x", "|_|", "||_||",
})


@dataclass(frozen=True)
class Labels:
    names: tuple[str, ...]
    categories: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.names)


def load_labels(path: Path) -> Labels:
    names, categories = [], []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = {"name", "category"} - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"{path.name} lacks the column(s) {', '.join(sorted(missing))}")
            for row in reader:
                names.append(row["name"])
                categories.append(int(row["category"]))
    except (OSError, ValueError) as exc:
        raise ValueError(f"Cannot read the tag list {path}: {exc}") from None
    if not names:
        raise ValueError(f"The tag list {path} is empty")
    return Labels(tuple(names), tuple(categories))


def display_name(name: str, underscores_to_spaces: bool) -> str:
    if underscores_to_spaces and name not in KAOMOJIS:
        return name.replace("_", " ")
    return name


@dataclass(frozen=True)
class Selection:
    general_threshold: float = 0.35
    character_threshold: float = 0.85
    underscores_to_spaces: bool = True
    exclude: frozenset[str] = frozenset()


def select_tags(labels: Labels, scores, sel: Selection) -> list[tuple[str, float]]:
    """(tag, score) pairs above their category's threshold, most confident first; ratings left out.

    The exclude list matches a tag with or without underscores, so users can type either form.
    """
    if len(scores) != len(labels):
        raise ValueError(f"The model gives {len(scores)} scores but the tag list has {len(labels)} tags; "
                         "the model.onnx and selected_tags.csv do not belong together.")
    exclude = {e.strip().lower().replace("_", " ") for e in sel.exclude}
    picked = []
    for name, category, score in zip(labels.names, labels.categories, scores):
        score = float(score)
        if category == GENERAL:
            ok = score >= sel.general_threshold
        elif category == CHARACTER:
            ok = score >= sel.character_threshold
        else:
            continue  # ratings, and any category a future model adds that we do not know
        if ok and name.lower().replace("_", " ") not in exclude:
            picked.append((display_name(name, sel.underscores_to_spaces), score))
    picked.sort(key=lambda pair: pair[1], reverse=True)
    return picked
