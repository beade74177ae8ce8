"""Rank knowledge-base intents for a question: an inverted index shortlists examples, rapidfuzz reranks them."""

from __future__ import annotations

import heapq
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from intents._jieba import jieba
from intents.analyzer import Analysis, Analyzer, units_given
from intents.cache import Cache, expect, fingerprint, is_list_of, is_str_map

logger = logging.getLogger(__name__)

_STATE_FIELDS = (
    "_intents",
    "_vocab",
    "_question_text",
    "_reply_text",
    "_postings",
    "_bigram_postings",
    "_reply_postings",
    "_intent_examples",
    "_units",
    "_lists",
    "_common_token",
)
"""The index's attributes saved to and restored from the cache (besides the examples)."""

_CODE = b"".join(
    (Path(__file__).parent / name).read_bytes()
    for name in ("analyzer.py", "cache.py", "lexicon.py", "matcher.py", "normalize.py")
)
"""The code that builds the index: any change to it makes old index caches unusable."""

SHORTLIST = 32
"""Examples reranked per question; the index guarantees the true best is among them in practice."""

REPLY_WORD_CREDIT = 0.5
"""How far a word that only the reply (not any example question) uses explains a question's word."""

TERM_CREDIT = 1.0
"""Credit for a word of the terms an intent cites (一号受理 for the 12345 entry): the intent is about them."""

PART_CREDIT = 0.7
"""Credit for a question word found inside an example's text though segmented differently (瘦身 in 权力瘦身)."""

REPLY_PART_CREDIT = 0.4
"""Credit for a question word found only inside the reply's text."""

COVERAGE_SHARE = 0.7
"""The score is this share of coverage plus the rest of similarity: explaining every word matters most."""

CONSTRAINT_PENALTY = 0.5
"""Coverage factor when the question names a place, year or number the intent never mentions (包头, 2022年)."""

_BIGRAM_WEIGHT = 0.15
_REPLY_WORD_INTENTS = 8
"""A reply word shortlists its intents only when it is this rare: common ones bring in nothing particular."""
_YEAR = re.compile(r"(?:19|20)\d\d")
_CREDIT_CACHE_SIZE = 20_000
"""(intent, word) credits remembered across questions; the same words recur, and memory stays bounded."""


@dataclass(frozen=True, slots=True)
class IntentDoc:
    """What the matcher knows of one intent: its id, example questions, the reply and the terms it cites."""

    id: str
    questions: tuple[str, ...]
    reply: str = ""
    terms: tuple[str, ...] = ()
    """The key terms the intent is about (its cited figures and what they measure): they count like examples."""
    figures: tuple[str, ...] = ()
    """The figures the intent's reply cites: a question asking a count in another unit is not about them."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One intent scored against a question."""

    intent: str
    score: float
    """0-100: how confidently the question asks for this intent."""
    coverage: float
    """0-1: the weighted share of the question's words that this intent's examples or reply use."""
    similarity: float
    """0-1: closeness to the nearest example question."""
    example: str
    """That nearest example question, as written in the knowledge base."""


@dataclass(frozen=True, slots=True)
class _Example:
    intent: int
    text: str
    tokens: frozenset[str]
    key: str
    weight: float
    """The summed weight of the example's distinct tokens."""


def _bigrams(key: str) -> set[str]:
    return {key[i : i + 2] for i in range(len(key) - 1)}


class Matcher:
    """Scores questions against every intent's examples through one shared analyzer."""

    def __init__(self, analyzer: Analyzer, docs: Iterable[IntentDoc], *, cache: Cache | None = None) -> None:
        """Index the docs; with a cache, reuse (or save) the index built from the same docs, lexicon and code."""
        self.analyzer = analyzer
        self._is_constraint = analyzer.lexicon.is_constraint
        self._detail_words = analyzer.lexicon.detail_words
        self._list_words = analyzer.lexicon.list_words
        self._credits: dict[tuple[int, str], float] = {}
        self._intents: list[str] = []
        self._vocab: list[dict[str, float]] = []
        self._question_text: list[str] = []
        self._reply_text: list[str] = []
        self._examples: list[_Example] = []
        self._intent_examples: list[list[int]] = []
        self._postings: dict[str, list[int]] = {}
        self._bigram_postings: dict[str, list[int]] = {}
        self._reply_postings: dict[str, list[int]] = {}
        self._units: list[list[str]] = []
        self._lists: list[bool] = []
        """Per intent, whether its reply lists three or more things (A、B、C)."""
        self._common_token = 0
        docs = list(docs)
        if cache is None:
            self._build(docs)
            return
        name = "index-" + index_key(analyzer, docs) + ".marshal"
        state = cache.load(name, lambda raw: _validate_state(raw, [d.id for d in docs]))
        if state is not None:
            self._restore(state)
            return
        self._build(docs)
        cache.store(name, self._state())

    def _state(self) -> tuple[Any, ...]:
        examples = [(e.intent, e.text, e.tokens, e.key, e.weight) for e in self._examples]
        return (examples, *(getattr(self, name) for name in _STATE_FIELDS))

    def _restore(self, state: tuple[Any, ...]) -> None:
        examples, *fields = state
        for name, value in zip(_STATE_FIELDS, fields, strict=True):
            setattr(self, name, value)
        self._examples = [_Example(*e) for e in examples]

    def _build(self, docs: list[IntentDoc]) -> None:
        analyzer = self.analyzer
        weight = analyzer.lexicon.weight
        postings: dict[str, list[int]] = {}
        bigram_postings: dict[str, list[int]] = {}
        reply_postings: dict[str, list[int]] = {}
        for doc in docs:
            index = len(self._intents)
            self._intents.append(doc.id)
            reply = analyzer.analyze(doc.reply)
            vocab: dict[str, float] = dict.fromkeys(reply.tokens, REPLY_WORD_CREDIT)
            for term in doc.terms:
                vocab.update(dict.fromkeys(analyzer.analyze(term).tokens, TERM_CREDIT))
            keys: list[str] = []
            own_examples: list[int] = []
            asked: set[str] = set()
            for question in doc.questions:
                analysis = analyzer.analyze(question)
                if not analysis.tokens:
                    continue
                keys.append(analysis.key)
                tokens = frozenset(analysis.tokens)
                vocab.update(dict.fromkeys(tokens, 1.0))
                asked.update(tokens)
                ex_id = len(self._examples)
                own_examples.append(ex_id)
                self._examples.append(_Example(index, question, tokens, analysis.key, sum(map(weight, sorted(tokens)))))
                for token in tokens:
                    postings.setdefault(token, []).append(ex_id)
                for bigram in _bigrams(analysis.key):
                    bigram_postings.setdefault(bigram, []).append(ex_id)
            self._vocab.append(vocab)
            self._units.append(sorted(units_given(" ".join(doc.figures))))
            self._lists.append(doc.reply.count("、") >= 2)
            self._intent_examples.append(own_examples)
            for token in vocab.keys() - asked:
                reply_postings.setdefault(token, []).append(index)
            self._question_text.append("|".join(keys))
            self._reply_text.append(reply.key)
        self._postings = postings
        self._reply_postings = reply_postings
        # A bigram shared by many examples (多少, 企业) shortlists nothing; tokens already carry it.
        common = max(50, len(self._examples) // 50)
        self._bigram_postings = {b: ids for b, ids in bigram_postings.items() if len(ids) <= common}
        self._common_token = max(200, len(self._examples) // 20)

    @property
    def example_count(self) -> int:
        """Return how many example questions are indexed."""
        return len(self._examples)

    def _credit(self, intent: int, token: str) -> float:
        """Return how far an intent explains one question word: 1 for a word its examples use, less for weaker ties."""
        key = (intent, token)
        cached = self._credits.get(key)
        if cached is not None:
            return cached
        if len(self._credits) >= _CREDIT_CACHE_SIZE:
            self._credits.clear()
        credit = self._credits[key] = self._compute_credit(intent, token)
        return credit

    def _compute_credit(self, intent: int, token: str) -> float:
        credit: float = self._vocab[intent].get(token, 0.0)
        if credit >= 1.0 or len(token) < 2:
            return credit
        if token in self._question_text[intent]:
            return max(credit, PART_CREDIT)
        if token in self._reply_text[intent]:
            return max(credit, REPLY_PART_CREDIT)
        if len(token) >= 3:
            # A longer word holding one of the intent's words (行政服务大厅 holds 大厅) is partly explained by it.
            vocab = self._vocab[intent]
            for size in range(len(token) - 1, 1, -1):
                for start in range(len(token) - size + 1):
                    word_credit = vocab.get(token[start : start + size])
                    if word_credit:
                        return max(credit, word_credit * PART_CREDIT * size / len(token))
        return credit

    def _coverage(
        self,
        intent: int,
        q_weights: dict[str, float],
        q_total: float,
        strict: list[str],
        loose: list[str],
        units: frozenset[str],
    ) -> float:
        """Return the weighted share of the question this intent explains, halved for each kind of mismatch.

        Mismatches: a year or practical-detail word (`strict`) the intent's examples and facts never use (the year
        a reply's report appeared in does not count); a place or number (`loose`) the intent never mentions at
        all; a count asked in a unit none of its figures is in (多少人 of an entry that only gives a percentage).
        """
        credit = self._credit
        vocab = self._vocab[intent]
        coverage = sum(w * credit(intent, t) for t, w in q_weights.items()) / q_total
        for token in strict:
            if vocab.get(token, 0.0) < 1.0 and not (token in self._list_words and self._lists[intent]):
                coverage *= CONSTRAINT_PENALTY
        for token in loose:
            if credit(intent, token) == 0.0:
                coverage *= CONSTRAINT_PENALTY
        if units and not units <= set(self._units[intent]):
            coverage *= CONSTRAINT_PENALTY
        return coverage

    def _shortlist(self, q_weights: dict[str, float], key: str) -> list[int]:
        """Return the examples sharing the most weighted words (and rare character pairs) with the question."""
        hits: dict[int, float] = {}
        get = hits.get
        lists = [(self._postings.get(t, ()), w) for t, w in q_weights.items()]
        rare = [(ids, w) for ids, w in lists if 0 < len(ids) <= self._common_token]
        for ids, w in rare or lists:
            for ex_id in ids:
                hits[ex_id] = get(ex_id, 0.0) + w
        for bigram in _bigrams(key):
            for ex_id in self._bigram_postings.get(bigram, ()):
                hits[ex_id] = get(ex_id, 0.0) + _BIGRAM_WEIGHT
        # A word only the reply uses still brings its intent in (什么叫一号受理 → the 12345 entry).
        for token, w in q_weights.items():
            intents = self._reply_postings.get(token, ())
            if len(intents) <= _REPLY_WORD_INTENTS:
                for intent in intents:
                    for ex_id in self._intent_examples[intent]:
                        hits[ex_id] = get(ex_id, 0.0) + w * REPLY_WORD_CREDIT
        if len(hits) <= SHORTLIST:
            return list(hits)
        return heapq.nlargest(SHORTLIST, sorted(hits), key=hits.__getitem__)  # equal hits: lowest ids first

    def rank(self, analysis: Analysis, *, limit: int = 5) -> list[Candidate]:
        """Return up to `limit` intents, best first, scored against the analysed question."""
        if not analysis.tokens:
            return []
        weight = self.analyzer.lexicon.weight
        q_tokens = frozenset(analysis.tokens)
        # Sorted, never set order: float sums and the shortlist's tie-breaks must not depend on PYTHONHASHSEED.
        q_weights = {t: weight(t) for t in sorted(q_tokens)}
        q_total = sum(q_weights.values())
        key = analysis.key
        strict = [t for t in q_weights if _YEAR.fullmatch(t) or t in self._detail_words or t in self._list_words]
        loose = [t for t in q_weights if t not in strict and self._is_constraint(t)]
        best: dict[int, tuple[float, float, float, int]] = {}
        coverage_of: dict[int, float] = {}
        for ex_id in self._shortlist(q_weights, key):
            example = self._examples[ex_id]
            intent = example.intent
            coverage = coverage_of.get(intent)
            if coverage is None:
                coverage = self._coverage(intent, q_weights, q_total, strict, loose, analysis.units)
                coverage_of[intent] = coverage
            shared = sum(q_weights[t] for t in sorted(q_tokens & example.tokens))
            union = q_total + example.weight - shared
            overlap = shared / union if union else 0.0
            similarity = 0.5 * overlap + 0.005 * fuzz.ratio(key, example.key)
            score = 100.0 * (COVERAGE_SHARE * coverage + (1.0 - COVERAGE_SHARE) * similarity)
            current = best.get(intent)
            if current is None or score > current[0]:
                best[intent] = (score, coverage, similarity, ex_id)
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], self._intents[item[0]]))[:limit]
        return [
            Candidate(
                intent=self._intents[intent],
                score=round(score, 2),
                coverage=round(coverage, 4),
                similarity=round(similarity, 4),
                example=self._examples[ex_id].text,
            )
            for intent, (score, coverage, similarity, ex_id) in ranked
        ]


def _build_settings() -> str:
    """Return the values of every setting the index is built with (a constant changed at run time counts too)."""
    return repr((REPLY_WORD_CREDIT, TERM_CREDIT, jieba.__version__, _STATE_FIELDS))


def index_key(analyzer: Analyzer, docs: Sequence[IntentDoc]) -> str:
    """Return the hash of every input that shapes the index: code, settings, lexicon and each doc's every field."""
    parts = ["\x1f".join((d.id, d.reply, *d.questions, "\x1e", *d.terms, "\x1e", *d.figures)) for d in docs]
    return fingerprint(_CODE, _build_settings(), analyzer.lexicon.fingerprint, *parts)


def _validate_state(raw: Any, intent_ids: list[str]) -> tuple[Any, ...]:
    """Return a cached index state after checking every field's type and cross-references, or raise."""
    expect(isinstance(raw, tuple) and len(raw) == len(_STATE_FIELDS) + 1, "another layout")
    examples, intents, vocab, q_text, r_text, postings, bigrams, r_postings, own, units, lists, common = raw
    expect(intents == intent_ids, "other intents")
    n = len(intents)
    expect(isinstance(examples, list), "examples are not a list")
    for e in examples:
        expect(isinstance(e, tuple) and len(e) == 5, "an example has another layout")
        expect(isinstance(e[0], int) and 0 <= e[0] < n and isinstance(e[1], str) and isinstance(e[3], str), "example")
        expect(isinstance(e[2], frozenset) and all(isinstance(t, str) for t in e[2]), "example tokens")
        expect(isinstance(e[4], float), "example weight")
    m = len(examples)
    expect(isinstance(vocab, list) and len(vocab) == n and all(is_str_map(v, float) for v in vocab), "vocabulary")
    for texts in (q_text, r_text):
        expect(is_list_of(texts, str) and len(texts) == n, "texts")
    for table, size in ((postings, m), (bigrams, m), (r_postings, n)):
        expect(is_str_map(table, list), "postings")
        expect(all(is_list_of(ids, int) and all(0 <= i < size for i in ids) for ids in table.values()), "posting ids")
    expect(isinstance(own, list) and len(own) == n, "intent examples")
    expect(all(is_list_of(ids, int) and all(0 <= i < m for i in ids) for ids in own), "intent example ids")
    expect(isinstance(units, list) and len(units) == n and all(is_list_of(u, str) for u in units), "units")
    expect(is_list_of(lists, bool) and len(lists) == n, "list flags")
    expect(isinstance(common, int) and not isinstance(common, bool), "common token threshold")
    return tuple(raw)


def docs_from_questions(items: Sequence[tuple[str, Sequence[str]]]) -> list[IntentDoc]:
    """Return intent documents from (id, questions) pairs, for synthetic benchmarks and tests."""
    return [IntentDoc(id=i, questions=tuple(q)) for i, q in items]
