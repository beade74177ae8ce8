"""Build the engine's compact lexicon files from jieba's default dictionary and pypinyin.

jieba's default dictionary holds 349,046 words and takes about a second to load; the engine needs only the
frequent ones (for segmentation and for word weights) plus its own domain words. Run this once when upgrading
jieba or pypinyin; its outputs are committed:

    pip install pypinyin && python scripts/build_lexicon.py [--out DIR]

`--out DIR` writes the files elsewhere (the provenance test regenerates them into a temporary folder and compares).
Where the data comes from and under which licences: THIRD_PARTY_NOTICES.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jieba
from pypinyin import Style, lazy_pinyin

DATA = Path(__file__).resolve().parent.parent / "intents" / "data"
TOP_WORDS = 80000
WORD_CLASSES = {
    **dict.fromkeys(["v", "vd", "vg", "vi", "vq"], "v"),
    **dict.fromkeys(["a", "ad", "ag", "an", "b", "z"], "a"),
    **dict.fromkeys(["r", "m", "mq", "q", "d", "t", "tg", "f", "p", "c", "u", "y", "e", "o", "x", "s", "k"], "f"),
}


def main(argv: list[str] | None = None) -> int:
    """Write base_dict.txt (the most frequent words) and pinyin.txt (toneless pinyin of their characters)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DATA, help="folder to write the files to (default: intents/data)")
    out_dir: Path = parser.parse_args(argv).out
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, int]] = []
    tags: dict[str, str] = {}
    with open(jieba.get_dict_file().name, encoding="utf-8") as f:  # type: ignore[no-untyped-call]
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                rows.append((parts[0], int(parts[1])))
            if len(parts) >= 3:
                tags[parts[0]] = parts[2]
    total = sum(freq for _, freq in rows)
    rows.sort(key=lambda r: (-r[1], r[0]))
    kept = rows[:TOP_WORDS]
    with open(out_dir / "base_dict.txt", "w", encoding="utf-8") as out:
        for word, freq in kept:
            out.write(f"{word} {freq}\n")
    with open(out_dir / "word_classes.txt", "w", encoding="utf-8") as out:
        out.write("# Word class of the dictionary's non-noun words, from jieba's part-of-speech tags: v verb,\n")
        out.write(
            "# a adjective or modifier, f function word (pronoun, numeral, measure, adverb, time, particle...).\n"
        )
        for word, _ in kept:
            cls = WORD_CLASSES.get(tags.get(word, ""))
            if cls:
                out.write(f"{word} {cls}\n")
    chars = sorted({ch for word, _ in rows[:120_000] for ch in word if "\u4e00" <= ch <= "\u9fff"})
    with open(out_dir / "pinyin.txt", "w", encoding="utf-8") as out:
        for ch in chars:
            out.write(f"{ch} {lazy_pinyin(ch, style=Style.NORMAL)[0]}\n")
    print(f"{len(kept)} words (of {len(rows)}, total frequency {total}), {len(chars)} characters with pinyin")
    return 0


if __name__ == "__main__":
    sys.exit(main())
