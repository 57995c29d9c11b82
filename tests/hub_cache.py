"""A Hugging Face cache (huggingface_hub's layout) with every tokenizer the app's task types need, in the data
folder where the app points HF_HOME. The stand-in trainer reads none of them; it stands for a machine whose
first runs already downloaded them, so the start-time tokenizer check (server/training/hub_tokenizers.py)
passes without a network. The real-trainer tests put real tiny tokenizers there instead."""

from __future__ import annotations

import hashlib
from pathlib import Path

from server.training import hub_tokenizers


def seed(data_root: Path | str) -> Path:
    home = Path(data_root) / "huggingface"
    for tok in hub_tokenizers.every_tokenizer():
        base = home / "hub" / f"models--{tok.repo.replace('/', '--')}"
        rev = hashlib.sha1(tok.repo.encode()).hexdigest()
        (base / "refs").mkdir(parents=True, exist_ok=True)
        (base / "refs" / "main").write_text(rev, encoding="utf-8")
        folder = base / "snapshots" / rev / tok.subfolder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / tok.probe_file).write_text("{}", encoding="utf-8")
    return home
