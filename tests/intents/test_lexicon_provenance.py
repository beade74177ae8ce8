"""The generated lexicon files are exactly what scripts/build_lexicon.py makes from jieba and pypinyin."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ("base_dict.txt", "word_classes.txt", "pinyin.txt", "domain_pinyin.txt")


def test_the_generator_reproduces_the_shipped_files(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_lexicon.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for name in GENERATED:
        shipped = (ROOT / "intents" / "data" / name).read_bytes()
        assert (tmp_path / name).read_bytes() == shipped, f"{name} differs from what build_lexicon.py generates"


@pytest.mark.parametrize("name", GENERATED)
def test_each_generated_file_is_named_in_the_third_party_notices(name: str) -> None:
    notices = (ROOT / "THIRD_PARTY_NOTICES.md").read_text(encoding="utf-8")
    assert f"intents/data/{name}" in notices
    assert "Copyright (c) 2013 Sun Junyi" in notices and "mozillazg" in notices


@pytest.mark.parametrize("name", ["list_words.txt", "detail_words.txt", "stopwords.txt", "synonyms.yaml"])
def test_every_lexicon_file_is_in_the_cache_fingerprint(tmp_path: Path, name: str) -> None:
    """Editing any lexicon file must invalidate the caches built on it, or the engine would answer from stale data."""
    from intents.lexicon import DATA_DIR, Lexicon

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    before = Lexicon.load(data).fingerprint
    with (data / name).open("a", encoding="utf-8") as f:
        f.write("\n# edited\n")
    assert Lexicon.load(data).fingerprint != before
