"""An editable copy of the packaged knowledge base, for reload and curation tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from knowledge.loader import DATA_DIR

TOPIC = "topics/business_registration.yaml"


def copy_knowledge(folder: Path) -> Path:
    """Copy the packaged knowledge base into folder and return it."""
    shutil.copytree(DATA_DIR, folder)
    return folder


def edit_topic(folder: Path, old: str, new: str, topic: str = TOPIC) -> None:
    """Replace the first old with new in a topic file of a copy (old must be there)."""
    path = folder / topic
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
