"""Rank knowledge-base intents for a question: an inverted index shortlists examples, rapidfuzz reranks them."""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from intents import features, scoring
from intents._jieba import jieba
from intents.analyzer import Analysis, Analyzer, units_given
from intents.cache import Cache, expect, fingerprint, is_list_of, is_str_map
from intents.features import Features
from intents.scoring import Weights

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

_BIGRAM_WEIGHT = 0.15
_REPLY_WORD_INTENTS = 8
"""A reply word shortlists its intents only when it is this rare: common ones bring in nothing particular."""
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
    features: Features = field(default_factory=Features)
    """The named features the score combines (see intents.features)."""


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

    def __init__(
        self,
        analyzer: Analyzer,
        docs: Iterable[IntentDoc],
        *,
        cache: Cache | None = None,
        weights: Weights | None = None,
    ) -> None:
        """Index the docs; with a cache, reuse (or save) the index built from the same docs, lexicon and code."""
        self.analyzer = analyzer
        self.weights = weights or scoring.default_scoring().weights
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

    def _intent_features(
        self, intent: int, q_weights: dict[str, float], q_total: float, asked: _Asked, units: frozenset[str]
    ) -> Features:
        """Return the features that depend on the intent alone (coverage and every mismatch), not on one example."""
        credit = partial(self._credit, intent)
        cov = features.coverage(q_weights, credit, q_total)
        if not asked.any and not units:
            return Features(coverage=cov)
        vocab = self._vocab[intent]
        return Features(
            coverage=cov,
            year_mismatch=features.year_mismatch(asked.years, vocab),
            place_mismatch=features.place_mismatch(asked.constraints, credit),
            unit_mismatch=features.unit_mismatch(units, self._units[intent]),
            detail_mismatch=features.detail_mismatch(asked.details, vocab),
            list_mismatch=features.list_mismatch(asked.lists, vocab, self._lists[intent]),
        )

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

    def asked(self, tokens: Iterable[str]) -> _Asked:
        """Sort the question's constraining words by kind: years, list words, detail words, places and numbers."""
        years: list[str] = []
        lists: list[str] = []
        details: list[str] = []
        constraints: list[str] = []
        for t in tokens:
            if features.YEAR.fullmatch(t):
                years.append(t)
            elif t in self._list_words:
                lists.append(t)
            elif t in self._detail_words:
                details.append(t)
            elif self._is_constraint(t):
                constraints.append(t)
        return _Asked(tuple(years), tuple(lists), tuple(details), tuple(constraints))

    def rank(self, analysis: Analysis, *, limit: int = 5) -> list[Candidate]:
        """Return up to `limit` intents, best first, scored against the analysed question."""
        if not analysis.tokens:
            return []
        weight = self.analyzer.lexicon.weight
        w = self.weights
        q_tokens = frozenset(analysis.tokens)
        # Sorted, never set order: float sums and the shortlist's tie-breaks must not depend on PYTHONHASHSEED.
        q_weights = {t: weight(t) for t in sorted(q_tokens)}
        key = analysis.key
        asked = self.asked(q_weights)
        share = w.coverage_share
        rest, w_overlap, w_chars = 1.0 - share, w.overlap, w.char_similarity
        q_total = sum(q_weights.values())
        overlap, char_similarity = features.overlap, features.char_similarity
        best: dict[int, tuple[float, float, float, int]] = {}
        per_intent: dict[int, tuple[Features, float]] = {}
        for ex_id in self._shortlist(q_weights, key):
            example = self._examples[ex_id]
            intent = example.intent
            known = per_intent.get(intent)
            if known is None:
                intent_features = self._intent_features(intent, q_weights, q_total, asked, analysis.units)
                known = per_intent[intent] = (intent_features, scoring.adjusted_coverage(intent_features, w))
            ov = overlap(q_weights, example.tokens, example.weight, q_total)
            chars = char_similarity(key, example.key)
            total = 100.0 * (share * known[1] + rest * (w_overlap * ov + w_chars * chars))
            current = best.get(intent)
            if current is None or total > current[0]:
                best[intent] = (total, ov, chars, ex_id)
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], self._intents[item[0]]))[:limit]
        candidates: list[Candidate] = []
        for intent, (total, ov, chars, ex_id) in ranked:
            base = per_intent[intent][0]
            found = Features(
                base.coverage,
                round(ov, 6),
                round(chars, 6),
                base.year_mismatch,
                base.place_mismatch,
                base.unit_mismatch,
                base.detail_mismatch,
                base.list_mismatch,
            )
            candidates.append(
                Candidate(
                    intent=self._intents[intent],
                    score=round(total, 2),
                    coverage=round(per_intent[intent][1], 4),
                    similarity=round(scoring.closeness(ov, chars, w), 4),
                    example=self._examples[ex_id].text,
                    features=found,
                )
            )
        return candidates

    def example_features(self, analysis: Analysis) -> list[tuple[str, Features]]:
        """Return (intent, features) for every shortlisted example, for fitting the weights offline."""
        weight = self.analyzer.lexicon.weight
        q_weights = {t: weight(t) for t in sorted(frozenset(analysis.tokens))}
        if not q_weights:
            return []
        asked = self.asked(q_weights)
        per_intent: dict[int, Features] = {}
        found: list[tuple[str, Features]] = []
        for ex_id in sorted(self._shortlist(q_weights, analysis.key)):
            example = self._examples[ex_id]
            base = per_intent.get(example.intent)
            if base is None:
                base = per_intent[example.intent] = self._intent_features(
                    example.intent, q_weights, sum(q_weights.values()), asked, analysis.units
                )
            ov = features.overlap(q_weights, example.tokens, example.weight)
            chars = features.char_similarity(analysis.key, example.key)
            found.append((self._intents[example.intent], replace(base, overlap=ov, char_similarity=chars)))
        return found


@dataclass(frozen=True, slots=True)
class _Asked:
    """The question's words that pin it down, by kind (each kind is its own mismatch feature)."""

    years: tuple[str, ...]
    lists: tuple[str, ...]
    details: tuple[str, ...]
    constraints: tuple[str, ...]

    @property
    def any(self) -> bool:
        """Return True when the question has any constraining word."""
        return bool(self.years or self.lists or self.details or self.constraints)


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
