"""The matching vocabulary: segmentation dictionary, domain words, synonyms, stop words, word weights, pinyin."""

from __future__ import annotations

import gc
import logging
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from intents._jieba import jieba
from intents.cache import Cache, default_folder, expect, fingerprint
from knowledge.loader import YAML_LOADER

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
WEIGHT_CACHE_SIZE = 50_000
"""Word weights kept in memory; the cache starts over when full (the lexicon's own words are about 80,000)."""
INTERROGATIVES = frozenset({"多久", "多少", "何时", "哪里", "什么", "怎么"})
"""Canonical question words (synonyms.yaml maps the variants): they carry intent but little topic."""

_INTERROGATIVE_WEIGHT = 0.3
_MIN_WEIGHT = 0.1
_CLASS_WEIGHT = {"v": 0.6, "a": 0.4, "f": 0.15}
_UNKNOWN_WORD_WEIGHT = 0.7

_CJK = re.compile(r"[\u3400-\u9fff]")


def _text_lines(text: str) -> list[str]:
    """Return the lines of a data file that are neither blank nor comments."""
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _lines(path: Path) -> list[str]:
    return _text_lines(path.read_text(encoding="utf-8"))


def _read_words(path: Path) -> list[str]:
    words: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        words.extend(line.split())
    return words


def _prefix_dict_validator(
    dictionary: bytes, class_entries: int
) -> Callable[[Any], tuple[dict[str, int], int, dict[str, str]]]:
    """Return a check that a cached prefix dictionary was built from this dictionary file and has the word
    classes of a file of class_entries lines."""
    entries = dictionary.count(b"\n")
    samples = [line.split()[0] for line in dictionary.decode("utf-8").splitlines()[:: max(1, entries // 64)] if line]

    def validate(value: Any) -> tuple[dict[str, int], int, dict[str, str]]:
        expect(isinstance(value, tuple) and len(value) == 3, "not a (frequencies, total, classes) triple")
        freq, total, word_classes = value
        expect(isinstance(freq, dict) and isinstance(total, int) and isinstance(word_classes, dict), "wrongly typed")
        expect(total > 0 and len(freq) >= entries, f"{len(freq)} prefixes for {entries} dictionary words")
        expect(all(isinstance(freq.get(word), int) for word in samples), "dictionary words are missing")
        expect(len(word_classes) == class_entries, f"{len(word_classes)} word classes for {class_entries} lines")
        return freq, total, word_classes

    return validate


def _compact(freq: dict[str, int], class_lines: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    """Return the prefix dictionary with one int object per distinct frequency, and the word classes keyed by
    the dictionary's own key objects: marshal keeps the sharing, which saves a few MiB in every process."""
    ints: dict[int, int] = {}
    shared = {word: ints.setdefault(n, n) for word, n in freq.items()}
    keys = {word: word for word in shared}
    classes: dict[str, str] = {}
    for line in class_lines:
        word, cls = line.split(" ", 1)
        classes[keys.get(word, word)] = sys.intern(cls)
    return shared, classes


def _initialize(tokenizer: jieba.Tokenizer, dictionary: bytes, classes: bytes, cache: Cache) -> dict[str, str]:
    """Give the tokenizer its prefix dictionary, from the cache when a valid one is there (jieba's own cache
    trusts any file it can unmarshal, and logs a traceback when it cannot write one); return the word classes."""
    name = "jieba-" + fingerprint(jieba.__version__, dictionary, classes) + ".cache"
    class_lines = _text_lines(classes.decode("utf-8"))
    # Loading the prefix dictionary creates ~200,000 objects; the cyclic GC would scan them several times.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        cached = cache.load(name, _prefix_dict_validator(dictionary, len(class_lines)))
        if cached is None:
            with tokenizer.get_dict_file() as f:
                freq, total = tokenizer.gen_pfdict(f)
            freq, word_classes = _compact(freq, class_lines)
            cached = (freq, total, word_classes)
            cache.store(name, cached)
    finally:
        if gc_was_enabled:
            gc.enable()
    tokenizer.FREQ, tokenizer.total, word_classes = cached
    tokenizer.initialized = True
    return word_classes


@dataclass(slots=True)
class Lexicon:
    """Everything the analyzer needs to know about words; built once and shared."""

    tokenizer: jieba.Tokenizer
    synonyms: dict[str, str]
    stopwords: frozenset[str]
    domain_words: frozenset[str]
    places: frozenset[str]
    """Places other than Hohhot: naming one that an entry never mentions rules the entry out."""
    pinyin: dict[str, tuple[str, ...]]
    """Every toneless reading of each character, most common first."""
    phrase_pinyin: dict[str, tuple[str, ...]]
    """The reading of a domain word in context (银行 yin hang); other words are read with each character's
    most common reading."""
    detail_words: frozenset[str]
    """Words asking for a practical detail (电话, 材料, 下载): only an entry whose examples use them may answer."""
    list_words: frozenset[str]
    """Words asking for a list (哪几个, 都有哪些): only an entry whose examples use them or whose reply lists may
    answer."""
    word_classes: dict[str, str]
    """Non-noun dictionary words and their class: v verb, a modifier, f function word."""
    fingerprint: str
    """A hash of every file and word the lexicon was built from, for caches derived from it."""
    _weights: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: Path = DATA_DIR, extra_words: Iterable[str] = (), cache: Cache | None = None) -> Lexicon:
        """Load the lexicon files from data_dir and add extra domain words (such as the knowledge base's terms).

        jieba's prefix dictionary is read from `cache` when a valid copy is there (default: the per-user folder).
        """
        names = (
            "base_dict.txt",
            "synonyms.yaml",
            "stopwords.txt",
            "places.txt",
            "detail_words.txt",
            "list_words.txt",
            "pinyin.txt",
            "domain_pinyin.txt",
            "word_classes.txt",
        )
        fixed_files = [data_dir / n for n in names]
        tokenizer = jieba.Tokenizer(dictionary=str(data_dir / "base_dict.txt"))
        word_classes = _initialize(
            tokenizer,
            (data_dir / "base_dict.txt").read_bytes(),
            (data_dir / "word_classes.txt").read_bytes(),
            cache or Cache(default_folder()),
        )
        raw_synonyms = yaml.load((data_dir / "synonyms.yaml").read_text(encoding="utf-8"), Loader=YAML_LOADER)
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
        details = frozenset(_read_words(data_dir / "detail_words.txt"))
        list_words = frozenset(_read_words(data_dir / "list_words.txt"))
        stopwords = frozenset(_read_words(data_dir / "stopwords.txt"))
        # Multi-character stop words are words too: kept whole, they cannot glue onto a neighbour (报道里 → 年报).
        fillers = {w for w in stopwords if len(w) >= 2}
        for word in sorted(domain | places | details | list_words | fillers | synonyms.keys()):
            # A high frequency makes jieba keep the term whole; weights ignore it (see weight()).
            tokenizer.add_word(word, freq=max(tokenizer.FREQ.get(word, 0), 200_000))
        pinyin: dict[str, tuple[str, ...]] = {}
        for line in (data_dir / "pinyin.txt").read_text(encoding="utf-8").splitlines():
            ch, *readings = line.split(" ")
            pinyin[ch] = tuple(readings)
        phrase_pinyin: dict[str, tuple[str, ...]] = {}
        for line in _lines(data_dir / "domain_pinyin.txt"):
            word, *readings = line.split(" ")
            phrase_pinyin[word] = tuple(readings)
        return cls(
            tokenizer=tokenizer,
            synonyms=synonyms,
            stopwords=stopwords,
            domain_words=frozenset(domain),
            places=places,
            phrase_pinyin=phrase_pinyin,
            detail_words=details,
            list_words=list_words,
            word_classes=word_classes,
            fingerprint=fingerprint(
                *(p.read_bytes() for p in (*fixed_files, *domain_files) if p.is_file()), *sorted(domain | places)
            ),
            pinyin=pinyin,
        )

    def is_constraint(self, token: str) -> bool:
        """Return True for a word that pins a question to one thing (a place, a year, a number)."""
        return token in self.places or (len(token) >= 3 and token.replace(".", "").isdigit())

    def weight(self, token: str) -> float:
        """Return how much a token says about a question, from 0.1 (a particle) to 1 (a domain term or noun).

        Nouns and domain terms say what a question is about; verbs and modifiers less; pronouns, numerals, adverbs
        and question words (jieba's part-of-speech classes) little; very frequent words are damped further.
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
            if not freq:
                w = _UNKNOWN_WORD_WEIGHT if len(token) >= 2 else _MIN_WEIGHT * 3
            else:
                w = _CLASS_WEIGHT.get(self.word_classes.get(token, ""), 1.0)
                if freq > 100_000:
                    w *= 0.25
                elif freq > 20_000:
                    w *= 0.5
            if len(token) == 1 and _CJK.match(token):
                w = min(w, 0.5)
        if len(self._weights) >= WEIGHT_CACHE_SIZE:  # questions bring endless new words: memory must level off
            self._weights.clear()
        self._weights[token] = w
        return w

    @property
    def cached_weights(self) -> int:
        """Return how many word weights are cached (at most WEIGHT_CACHE_SIZE)."""
        return len(self._weights)
