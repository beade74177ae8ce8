"""Turn a question into weighted content tokens: normalise, fix homophone typos, map synonyms, segment, filter."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from itertools import islice, product

from intents.lexicon import Lexicon
from intents.normalize import normalize

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
MAX_READINGS = 16
"""Readings tried per window of a question: polyphonic characters multiply them (a cap keeps long runs cheap)."""

UNIT_GROUPS: dict[str, tuple[str, ...]] = {
    "人": ("人", "名", "位"),
    "家": ("家", "户"),
    "项": ("项",),
    "条": ("条",),
    "类": ("类",),
    "天": ("天", "日", "工作日"),
    "亿": ("亿",),
    "万": ("万",),
    "元": ("元",),
    "亩": ("亩",),
    "场": ("场",),
    "次": ("次",),
    "份": ("份",),
    "座": ("座",),
    "套": ("套",),
    "枚": ("枚",),
    "件": ("件",),
    "平方米": ("平方米",),
    "百分": ("%", "百分"),
}
"""Measure words a question can ask a count in (多少人, 几家, 多少亿), grouped with their equivalents."""

_UNIT_TO_GROUP = {unit: group for group, units in UNIT_GROUPS.items() for unit in units}
_UNIT_ALTERNATION = "|".join(sorted((re.escape(u) for u in _UNIT_TO_GROUP), key=len, reverse=True))
_NUMBER = r"[\d一二两三四五六七八九十百千][\d.一二两三四五六七八九十百千]*"
_NOUN_NOT_UNIT = "项目|份额|场所|场地|类型|类别|条件|条例"
"""Nouns that begin with a measure word: 多少个项目 asks a count of projects (in 个), not a count in 项."""
_ASKED_UNIT = re.compile(r"(?:多少|几)个?(?!" + _NOUN_NOT_UNIT + ")(" + _UNIT_ALTERNATION + ")")
_GIVEN_UNIT = re.compile(_NUMBER + r"(?:多|余)?(万|亿)?(?:多|余)?个?(" + _UNIT_ALTERNATION + ")?")


def units_asked(text: str) -> frozenset[str]:
    """Return the unit groups a normalised question asks a count in: 多少人 → 人, 几户 → 家."""
    return frozenset(_UNIT_TO_GROUP[m.group(1)] for m in _ASKED_UNIT.finditer(text))


def units_given(text: str) -> frozenset[str]:
    """Return the unit groups a figure's numbers are in: 27.27万人 → 万, 人; 六类 → 类; 事项清单 (no number) → none."""
    groups: set[str] = set()
    for match in _GIVEN_UNIT.finditer(text):
        groups.update(_UNIT_TO_GROUP[u] for u in match.groups() if u)
    return frozenset(groups)


@dataclass(frozen=True, slots=True)
class Analysis:
    """A question as the matcher sees it."""

    normalized: str
    tokens: tuple[str, ...]
    """Content tokens in order, synonyms mapped to canonical terms, stop words dropped."""
    units: frozenset[str] = frozenset()
    """The measure words the question asks a count in (see UNIT_GROUPS)."""

    @property
    def key(self) -> str:
        """Return the content tokens joined: the string compared character by character."""
        return "".join(self.tokens)


class Analyzer:
    """The one pipeline both questions and knowledge-base examples go through, so they meet on equal terms."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        _ = self._homophones  # build the pinyin index now, not during the first question

    @cached_property
    def _homophones(self) -> dict[tuple[str, ...], str]:
        """Map the pinyin of each domain word (its phrase reading and its characters' common readings) to the word,
        where that pinyin belongs to one word only. A question's characters are then tried in every reading, so
        a typo pronounced right on any reading of a polyphonic character (行, 长, 调, 还) is still repaired."""
        index: dict[tuple[str, ...], str | None] = {}
        for word in sorted(self.lexicon.domain_words):
            if len(word) < 2 or not _CJK_RUN.fullmatch(word):
                continue
            for key in self._pinyin_keys(word):
                index[key] = None if key in index and index[key] != word else word
        return {k: v for k, v in index.items() if v is not None}

    def _pinyin_keys(self, word: str) -> list[tuple[str, ...]]:
        """Return the readings a domain word is known by: its phrase reading (generated with pypinyin, so 银行
        is yin hang) and its characters' most common readings, when they differ."""
        first = [self.lexicon.pinyin.get(ch) for ch in word]
        keys = [tuple(r[0] for r in first if r)] if all(first) else []
        phrase = self.lexicon.phrase_pinyin.get(word)
        if phrase is not None and len(phrase) == len(word):
            keys = [phrase, *(k for k in keys if k != phrase)]
        return keys

    def _is_word(self, text: str) -> bool:
        lexicon = self.lexicon
        return bool(lexicon.tokenizer.frequency(text)) or text in lexicon.domain_words or text in lexicon.synonyms

    def correct_homophones(self, text: str) -> str:
        """Replace a non-word that sounds exactly like a domain term (开半 → 开办, 注消 → 注销)."""
        if not self._homophones:
            return text
        return _CJK_RUN.sub(lambda m: self._correct_run(m.group()), text)

    def _correct_run(self, run: str) -> str:
        homophones = self._homophones
        unknown = ("?",)
        readings = [self.lexicon.pinyin.get(ch, unknown) for ch in run]
        fixed: list[str] = []
        i = 0
        while i < len(run):
            for size in (4, 3, 2):
                if i + size > len(run):
                    continue
                window = readings[i : i + size]
                term = next(
                    (t for key in islice(product(*window), MAX_READINGS) if (t := homophones.get(key)) is not None),
                    None,
                )
                if term is not None and not self._is_word(run[i : i + size]):
                    fixed.append(term)
                    i += size
                    break
            else:
                fixed.append(run[i])
                i += 1
        return "".join(fixed)

    def analyze(self, question: str) -> Analysis:
        """Return the content tokens of a question."""
        return self.trace(question)[0]

    def trace(self, question: str) -> tuple[Analysis, str, tuple[tuple[str, str], ...]]:
        """Return the analysis, the text after typo repair, and each (variant, canonical) synonym mapping applied."""
        normalized = normalize(question)
        # Synonym variants are words of the tokenizer, so segmentation finds them whole (and never inside a longer
        # domain word: 青城 stays inside 爱青城); each token is then mapped to its canonical term.
        text = self.correct_homophones(normalized)
        stop = self.lexicon.stopwords
        synonyms = self.lexicon.synonyms
        tokens: list[str] = []
        applied: list[tuple[str, str]] = []
        for chunk in text.split():
            for raw in self.lexicon.tokenizer.words(chunk):
                token = synonyms.get(raw, raw)
                if token != raw:
                    applied.append((raw, token))
                if token not in stop and token.strip():
                    tokens.append(token)
        analysis = Analysis(normalized=normalized, tokens=tuple(tokens), units=units_asked(normalized))
        return analysis, text, tuple(applied)
