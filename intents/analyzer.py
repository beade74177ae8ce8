"""Turn a question into weighted content tokens: normalise, fix homophone typos, map synonyms, segment, filter."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from intents.lexicon import Lexicon
from intents.normalize import normalize

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")


@dataclass(frozen=True, slots=True)
class Analysis:
    """A question as the matcher sees it."""

    normalized: str
    tokens: tuple[str, ...]
    """Content tokens in order, synonyms mapped to canonical terms, stop words dropped."""

    @property
    def key(self) -> str:
        """Return the content tokens joined: the string compared character by character."""
        return "".join(self.tokens)


class Analyzer:
    """The one pipeline both questions and knowledge-base examples go through, so they meet on equal terms."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    @cached_property
    def _homophones(self) -> dict[tuple[str, ...], str]:
        """Map the pinyin of each domain word to the word, where that pinyin is unambiguous."""
        index: dict[tuple[str, ...], str | None] = {}
        for word in self.lexicon.domain_words:
            if len(word) < 2 or not _CJK_RUN.fullmatch(word):
                continue
            key = self._pinyin_key(word)
            if key is None:
                continue
            index[key] = None if key in index and index[key] != word else word
        return {k: v for k, v in index.items() if v is not None}

    def _pinyin_key(self, text: str) -> tuple[str, ...] | None:
        readings = [self.lexicon.pinyin.get(ch) for ch in text]
        if any(r is None for r in readings):
            return None
        return tuple(r for r in readings if r is not None)

    def _is_word(self, text: str) -> bool:
        lexicon = self.lexicon
        return bool(lexicon.tokenizer.FREQ.get(text)) or text in lexicon.domain_words or text in lexicon.synonyms

    def correct_homophones(self, text: str) -> str:
        """Replace a non-word that sounds exactly like a domain term (开半 → 开办, 注消 → 注销)."""
        if not self._homophones:
            return text
        return _CJK_RUN.sub(lambda m: self._correct_run(m.group()), text)

    def _correct_run(self, run: str) -> str:
        homophones = self._homophones
        readings = [self.lexicon.pinyin.get(ch, "?") for ch in run]
        fixed: list[str] = []
        i = 0
        while i < len(run):
            for size in (4, 3, 2):
                if i + size > len(run):
                    continue
                term = homophones.get(tuple(readings[i : i + size]))
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
        normalized = normalize(question)
        # Synonym variants are words of the tokenizer, so segmentation finds them whole (and never inside a longer
        # domain word: 青城 stays inside 爱青城); each token is then mapped to its canonical term.
        text = self.correct_homophones(normalized)
        stop = self.lexicon.stopwords
        tokens: list[str] = []
        for chunk in text.split():
            for token in self.lexicon.tokenizer.cut(chunk, HMM=False):
                token = self.lexicon.synonyms.get(token, token)
                if token not in stop and token.strip():
                    tokens.append(token)
        return Analysis(normalized=normalized, tokens=tuple(tokens))
