"""The matching vocabulary: segmentation dictionary, domain words, synonyms, stop words, word weights, pinyin."""

from __future__ import annotations

import gc
import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from intents._jieba import jieba
from intents.cache import cache_dir, fingerprint

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
INTERROGATIVES = frozenset({"多久", "多少", "何时", "哪里", "什么", "怎么"})
"""Canonical question words (synonyms.yaml maps the variants): they carry intent but little topic."""

_INTERROGATIVE_WEIGHT = 0.3
_MIN_WEIGHT = 0.1
_CJK = re.compile(r"[\u3400-\u9fff]")



def _read_words(path: Path) -> list[str]:
    words: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        words.extend(line.split())
    return words


@dataclass(slots=True)
class Lexicon:
    """Everything the analyzer needs to know about words; built once and shared."""

    tokenizer: jieba.Tokenizer
    total_freq: int
    synonyms: dict[str, str]
    stopwords: frozenset[str]
    domain_words: frozenset[str]
    places: frozenset[str]
    """Places other than Hohhot: naming one that an entry never mentions rules the entry out."""
    pinyin: dict[str, str]
    fingerprint: str
    """A hash of every file and word the lexicon was built from, for caches derived from it."""
    _weights: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: Path = DATA_DIR, extra_words: Iterable[str] = ()) -> Lexicon:
        """Load the lexicon files from data_dir and add extra domain words (such as the knowledge base's terms)."""
        fixed_files = [data_dir / n for n in ("base_dict.txt", "synonyms.yaml", "stopwords.txt", "places.txt", "pinyin.txt")]
        tokenizer = jieba.Tokenizer(dictionary=str(data_dir / "base_dict.txt"))
        tokenizer.tmp_dir = str(cache_dir())
        # Loading the prefix dictionary creates ~200,000 objects; the cyclic GC would scan them several times.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            tokenizer.initialize()
        finally:
            if gc_was_enabled:
                gc.enable()
        total = int((data_dir / "base_dict_total.txt").read_text(encoding="utf-8").strip())
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        raw_synonyms = yaml.load((data_dir / "synonyms.yaml").read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
        synonyms: dict[str, str] = {}
        for canonical, variants in raw_synonyms.items():
            canonical = str(canonical)
            synonyms[canonical] = canonical
            for variant in variants:
                synonyms[str(variant)] = canonical
        domain: set[str] = set()
        domain_files = sorted(data_dir.glob("domain_words*.txt"))
        for path in domain_files:
            domain.update(_read_words(path))
        domain.update(w for w in extra_words if len(w) >= 2)
        domain.update(c for c in synonyms.values())
        places = frozenset(_read_words(data_dir / "places.txt"))
        for word in sorted(domain | places | synonyms.keys()):
            # A high frequency makes jieba keep the term whole; weights ignore it (see weight()).
            tokenizer.add_word(word, freq=max(tokenizer.FREQ.get(word, 0), 200_000))
        pinyin: dict[str, str] = {}
        for line in (data_dir / "pinyin.txt").read_text(encoding="utf-8").splitlines():
            ch, _, reading = line.partition(" ")
            pinyin[ch] = reading
        return cls(
            tokenizer=tokenizer,
            total_freq=total,
            synonyms=synonyms,
            stopwords=frozenset(_read_words(data_dir / "stopwords.txt")),
            domain_words=frozenset(domain),
            places=places,
            fingerprint=fingerprint(
                *(p.read_bytes() for p in (*fixed_files, *domain_files) if p.is_file()), *sorted(domain | places)
            ),
            pinyin=pinyin,
        )

    def is_constraint(self, token: str) -> bool:
        """Return True for a word that pins a question to one thing (a place, a year, a number)."""
        return token in self.places or (len(token) >= 3 and token.replace(".", "").isdigit())

    def weight(self, token: str) -> float:
        """Return how much a token says about a question: rare words a lot, common words and question words little.

        The weight is the token's self-information in jieba's corpus frequencies, scaled to 0.1-1.0; a domain
        word or a word jieba has never seen counts fully, since it is exactly what a question is about.
        """
        cached = self._weights.get(token)
        if cached is not None:
            return cached
        if token in INTERROGATIVES:
            w = _INTERROGATIVE_WEIGHT
        elif token in self.domain_words or token in self.places:
            w = 1.0
        elif token.replace(".", "").isdigit():
            w = 0.6 if len(token) >= 3 else 0.3
        elif token.isascii() and len(token) == 1:
            w = _MIN_WEIGHT
        else:
            freq = self.tokenizer.FREQ.get(token, 0)
            info = math.log(self.total_freq / (freq + 1))
            w = min(1.0, max(_MIN_WEIGHT, (info - 6.0) / 7.0))
            if len(token) == 1 and _CJK.match(token):
                w = min(w, 0.5)  # a lone character is usually a fragment, not a word
        self._weights[token] = w
        return w
