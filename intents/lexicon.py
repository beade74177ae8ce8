"""The matching vocabulary: segmentation dictionary, domain words, synonyms, stop words, word weights, pinyin."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from intents._jieba import jieba
from intents.cache import Cache, default_folder, fingerprint
from intents.segmenter import CACHE_FORMAT, Dictionary, TrieTokenizer
from knowledge.loader import YAML_LOADER

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
WEIGHT_CACHE_SIZE = 50_000
"""Word weights kept in memory; the cache starts over when full (the lexicon's own words are about 80,000)."""
TERM_FREQUENCY = 200_000
"""The least frequency a lexicon term is given in the segmentation dictionary, so that jieba keeps it whole."""
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


def _samples(dictionary: bytes, count: int = 64) -> list[tuple[str, int]]:
    """Return (word, frequency) of about `count` lines spread over a dictionary file, without splitting it all
    (the cache check must cost little next to the load it saves)."""
    samples: list[tuple[str, int]] = []
    step = max(1, len(dictionary) // count)
    for start in range(0, len(dictionary), step):
        begin = dictionary.find(b"\n", start) + 1 if start else 0
        if start and not begin:
            break
        end = dictionary.find(b"\n", begin)
        parts = dictionary[begin : end if end >= 0 else None].split(b" ")
        if len(parts) >= 2 and parts[1].isdigit():
            samples.append((parts[0].decode("utf-8"), int(parts[1])))
    return samples


def _dictionary(dictionary: bytes, classes: bytes, terms: list[str], cache: Cache) -> Dictionary:
    """Return the segmentation dictionary with the terms added, from the cache when a valid one is there."""
    name = "jieba-" + fingerprint(jieba.__version__, CACHE_FORMAT, dictionary, classes, "\n".join(terms)) + ".cache"
    lines = dictionary.count(b"\n") + (bool(dictionary) and not dictionary.endswith(b"\n"))
    # Lines of frequency 0 ("word 0" or "word 0 tag") hold no word; bytes.count is 5x faster than a regex here.
    zero = dictionary.count(b" 0\n") + dictionary.count(b" 0 ") + dictionary.endswith(b" 0")
    words = lines - zero
    added = set(terms)
    samples = [(word, n) for word, n in _samples(dictionary) if word not in added]
    cached = cache.load(name, lambda value: Dictionary.from_cache(value, samples, words, added))
    if cached is None:
        base = Dictionary.parse(dictionary.decode("utf-8"), _text_lines(classes.decode("utf-8")))
        # A high frequency makes jieba keep a term whole; weights ignore it (see weight()).
        cached = base.with_added({word: max(base.frequency(word), TERM_FREQUENCY) for word in terms})
        cache.store(name, cached.to_cache())
    return cached


@dataclass(slots=True)
class Lexicon:
    """Everything the analyzer needs to know about words; built once and shared."""

    tokenizer: TrieTokenizer
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
    fingerprint: str
    """A hash of every file and word the lexicon was built from, for caches derived from it."""
    _weights: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: Path = DATA_DIR, extra_words: Iterable[str] = (), cache: Cache | None = None) -> Lexicon:
        """Load the lexicon files from data_dir and add extra domain words (such as the knowledge base's terms).

        The segmentation dictionary (with the terms added) is read from `cache` when a valid copy is there
        (default: the per-user folder).
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
        dictionary = (data_dir / "base_dict.txt").read_bytes()
        classes = (data_dir / "word_classes.txt").read_bytes()
        read = {"base_dict.txt": dictionary, "word_classes.txt": classes}  # the largest files, read once
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
        tokenizer = TrieTokenizer(
            _dictionary(
                dictionary,
                classes,
                sorted(domain | places | details | list_words | fillers | synonyms.keys()),
                cache or Cache(default_folder()),
            )
        )
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
            fingerprint=fingerprint(
                *(read.get(p.name) or p.read_bytes() for p in (*fixed_files, *domain_files) if p.is_file()),
                *sorted(domain | places),
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
            freq = self.tokenizer.frequency(token)
            if not freq:
                w = _UNKNOWN_WORD_WEIGHT if len(token) >= 2 else _MIN_WEIGHT * 3
            else:
                w = _CLASS_WEIGHT.get(self.tokenizer.vocabulary.word_class(token), 1.0)
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
