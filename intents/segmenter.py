"""jieba's tokenizer over a compact dictionary: the words in a marisa trie, their frequencies and classes in arrays.

jieba keeps its prefix dictionary as a Python dict of every word and every prefix of a word (about 150,000 str
and int objects for the engine's 80,000 words): 12 MiB in every process, and 30 ms to unmarshal from the cache.
The same words in a marisa trie take 0.3 MB and load in a millisecond; one trie call per position lists the words
that start there, with their key ids.

`TrieTokenizer` is jieba's `Tokenizer` with the dictionary lookups replaced (`get_DAG`, `calc`, `add_word`), and
the cut the engine uses (accurate mode without HMM) done in one pass: jieba builds the DAG and then walks it, which
over a trie would cost a Python loop more per position. The arithmetic, the regular expressions and the order of
choices are jieba's, so the segmentation is exactly jieba's (tests/intents/test_segmenter.py compares the two on
every question set and on random text); every other mode is jieba's own code.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from math import log
from typing import Any

import marisa_trie

from intents._jieba import jieba
from intents.cache import CacheMismatch, expect

CACHE_FORMAT = "marisa Trie, frequencies and classes by key id, total, added words"
"""Part of the cache file's name: a cache of another layout is never read."""
WORD_CLASSES = ("", "v", "a", "f")
"""The word classes of word_classes.txt (v verb, a modifier, f function word); "" for a noun or an unknown word."""
_HAN = jieba.re_han_default  # jieba's blocks of words, its whitespace, and its run of single ASCII characters
_SKIP = jieba.re_skip_default
_ENG = jieba.re_eng


@dataclass(frozen=True, slots=True)
class Dictionary:
    """The segmentation dictionary: each word with its frequency and class, indexed by the trie's key ids."""

    words: marisa_trie.Trie
    """Every word of frequency > 0."""
    frequencies: array  # type: ignore[type-arg]  # array('I'), by key id
    classes: array  # type: ignore[type-arg]  # array('B') of indexes into WORD_CLASSES, by key id
    total: int
    """The sum of every frequency given, as jieba counts it (a word given twice counts twice)."""
    added: dict[str, int]
    """The words given by with_added, with their frequencies."""

    @classmethod
    def parse(cls, dictionary: str, class_lines: list[str], name: str = "base_dict.txt") -> Dictionary:
        """Build the dictionary from the text of a jieba dictionary file ("word freq [tag]" lines) and the
        "word class" lines of word_classes.txt; a malformed line raises ValueError naming its file and line."""
        freq: dict[str, int] = {}
        total = 0
        for number, line in enumerate(dictionary.splitlines(), 1):
            parts = line.split(" ")
            if len(parts) < 2 or not parts[0] or not parts[1].isdigit():
                raise ValueError(f"{name}, line {number}: expected 'word frequency', got {line[:40]!r}")
            freq[parts[0]] = int(parts[1])  # as jieba: a repeated word keeps its last frequency
            total += int(parts[1])
        classes: dict[str, int] = {}
        for number, line in enumerate(class_lines, 1):
            word, _, kind = line.partition(" ")
            if kind not in WORD_CLASSES[1:]:
                raise ValueError(f"word_classes.txt, entry {number}: unknown class {kind!r} for {word!r}")
            classes[word] = WORD_CLASSES.index(kind)
        return cls._build(freq, classes, total, {})

    @classmethod
    def _build(
        cls, freq: Mapping[str, int], classes: Mapping[str, int], total: int, added: dict[str, int]
    ) -> Dictionary:
        words = marisa_trie.Trie([w for w, n in freq.items() if n])
        frequencies = array("I", bytes(array("I").itemsize * len(words)))
        kinds = array("B", bytes(len(words)))
        for word, n in freq.items():
            if n:
                key = words[word]
                frequencies[key] = n
                kinds[key] = classes.get(word, 0)
        return cls(words=words, frequencies=frequencies, classes=kinds, total=total, added=added)

    def with_added(self, added: Mapping[str, int]) -> Dictionary:
        """Return the dictionary with these words added or given new frequencies (jieba's add_word: the total
        grows by each frequency given; a word given 0 is no longer cut out)."""
        freq = dict(self.items())
        classes = {word: self.classes[self.words[word]] for word in freq}
        freq.update(added)
        total = self.total + sum(added.values())
        return self._build(freq, classes, total, {**self.added, **added})

    def to_cache(self) -> tuple[bytes, bytes, bytes, int, dict[str, int]]:
        """Return the dictionary as marshal-friendly values (see from_cache)."""
        return self.words.tobytes(), self.frequencies.tobytes(), self.classes.tobytes(), self.total, self.added

    @classmethod
    def from_cache(cls, value: Any, samples: list[tuple[str, int]], entries: int, added: Collection[str]) -> Dictionary:
        """Return the dictionary of a to_cache value, or raise CacheMismatch unless it holds at least `entries`
        words, each (word, frequency) sample, and exactly the `added` words at the frequencies it says."""
        expect(isinstance(value, tuple) and len(value) == 5, "not a (words, frequencies, classes, total, added) tuple")
        trie_bytes, freq_bytes, class_bytes, total, cached_added = value
        expect(
            isinstance(trie_bytes, bytes)
            and isinstance(freq_bytes, bytes)
            and isinstance(class_bytes, bytes)
            and isinstance(total, int)
            and isinstance(cached_added, dict),
            "wrongly typed",
        )
        expect(cached_added.keys() == set(added), "other added words")
        try:
            words = marisa_trie.Trie().frombytes(trie_bytes)
        except Exception as exc:  # marisa raises RuntimeError on bytes that are not a trie
            raise CacheMismatch(f"not a trie ({exc})") from None
        frequencies = array("I")
        expect(len(freq_bytes) % frequencies.itemsize == 0, "frequencies are truncated")
        frequencies.frombytes(freq_bytes)
        classes = array("B", class_bytes)
        expect(len(words) >= entries, f"{len(words)} words for {entries} dictionary entries")
        expect(len(frequencies) == len(words) == len(classes), "frequencies or classes do not match the words")
        expect(total > 0 and max(classes, default=0) < len(WORD_CLASSES), "wrong total or classes")
        dictionary = cls(words=words, frequencies=frequencies, classes=classes, total=total, added=cached_added)
        for word, n in [*samples, *cached_added.items()]:
            expect(dictionary.frequency(word) == n, f"{word!r} is missing or has another frequency")
        return dictionary

    def items(self) -> Iterator[tuple[str, int]]:
        """Yield each word and its frequency."""
        frequencies = self.frequencies
        for word, index in self.words.iteritems():
            yield word, frequencies[index]

    def frequency(self, word: str) -> int:
        """Return the word's frequency, 0 when it is not a dictionary word."""
        index = self.words.get(word)
        return 0 if index is None else self.frequencies[index]

    def word_class(self, word: str) -> str:
        """Return the word's class (see WORD_CLASSES)."""
        index = self.words.get(word)
        return "" if index is None else WORD_CLASSES[self.classes[index]]

    def starts_a_word(self, text: str) -> bool:
        """Return True when some word begins with text."""
        return next(self.words.iterkeys(text), None) is not None


class _FrequencyView(Mapping[str, int]):
    """jieba's FREQ as a read-only view, for the jieba methods that read it (HMM cutting, suggest_freq): the
    frequency of each word, 0 for a prefix of a word (as in jieba's prefix dictionary), else absent."""

    def __init__(self, tokenizer: TrieTokenizer) -> None:
        self._tokenizer = tokenizer

    def __getitem__(self, word: str) -> int:
        vocabulary = self._tokenizer.vocabulary
        if isinstance(word, str) and word and vocabulary.starts_a_word(word):
            return vocabulary.frequency(word)
        raise KeyError(word)

    def __iter__(self) -> Iterator[str]:
        return (word for word, _ in self._tokenizer.vocabulary.items())

    def __len__(self) -> int:
        return len(self._tokenizer.vocabulary.words)


class TrieTokenizer(jieba.Tokenizer):  # type: ignore[misc]  # jieba is untyped
    """jieba's tokenizer over a `Dictionary`."""

    def __init__(self, dictionary: Dictionary) -> None:
        super().__init__()
        self.vocabulary = dictionary
        self.total = dictionary.total
        self.FREQ = _FrequencyView(self)
        self.initialized = True

    def frequency(self, word: str) -> int:
        """Return the word's frequency (0 for a word the dictionary does not have)."""
        return self.vocabulary.frequency(word)

    def add_word(self, word: str, freq: int | None = None, tag: str | None = None) -> None:
        """jieba's add_word; it rebuilds the trie, so give many words at once with Dictionary.with_added."""
        freq = int(freq) if freq is not None else self.suggest_freq(word, False)
        with self.lock:
            self.vocabulary = self.vocabulary.with_added({word: freq})
            self.total = self.vocabulary.total
            if tag:
                self.user_word_tag_tab[word] = tag

    def cut(self, sentence: str, cut_all: bool = False, HMM: bool = True, use_paddle: bool = False) -> Iterator[str]:
        """jieba's cut; accurate mode without HMM (the engine's) is done by words()."""
        if cut_all or HMM or use_paddle:
            return super().cut(sentence, cut_all=cut_all, HMM=HMM, use_paddle=use_paddle)  # type: ignore[no-any-return]
        return iter(self.words(sentence))

    def words(self, sentence: str) -> list[str]:
        """Return the words of sentence as jieba's `cut(sentence, HMM=False)` gives them."""
        out: list[str] = []
        for block in _HAN.split(sentence):
            if not block:
                continue
            if _HAN.match(block):
                self._cut_block(block, out)
                continue
            for part in _SKIP.split(block):
                if _SKIP.match(part):
                    out.append(part)
                else:
                    out.extend(part)
        return out

    def _cut_block(self, block: str, out: list[str]) -> None:
        """Append the words of a block on jieba's most probable route (its DAG and calc in one backward pass),
        keeping runs of single ASCII letters and digits together as jieba does."""
        n = len(block)
        prefixes = self.vocabulary.words.iter_prefixes_with_ids
        counts = self.vocabulary.frequencies
        logtotal = log(self.total)
        score = [0.0] * (n + 1)
        ends = [0] * n
        for idx in range(n - 1, -1, -1):
            best: tuple[float, int] | None = None
            for word, key in prefixes(block[idx:]):
                x = idx + len(word) - 1
                candidate = (log(counts[key]) - logtotal + score[x + 1], x)
                if best is None or candidate > best:
                    best = candidate
            if best is None:  # no word starts here: the character alone, at jieba's frequency 1
                best = (0.0 - logtotal + score[idx + 1], idx)
            score[idx], ends[idx] = best
        x = 0
        buf = ""
        while x < n:
            y = ends[x] + 1
            word = block[x:y]
            if y - x == 1 and _ENG.match(word):
                buf += word
            else:
                if buf:
                    out.append(buf)
                    buf = ""
                out.append(word)
            x = y
        if buf:
            out.append(buf)

    def get_DAG(self, sentence: str) -> dict[int, list[int]]:  # jieba's name; used by its other modes
        """Return jieba's DAG: for each position, the last position of every word that starts there (the
        position itself when none does)."""
        prefixes = self.vocabulary.words.prefixes
        return {k: [k + len(w) - 1 for w in prefixes(sentence[k:])] or [k] for k in range(len(sentence))}

    def calc(self, sentence: str, DAG: dict[int, list[int]], route: dict[int, tuple[float, int]]) -> None:
        """jieba's route choice (the most probable path through the DAG)."""
        n = len(sentence)
        route[n] = (0, 0)
        logtotal = log(self.total)
        frequency = self.frequency
        for idx in range(n - 1, -1, -1):
            route[idx] = max(
                (log(frequency(sentence[idx : x + 1]) or 1) - logtotal + route[x + 1][0], x) for x in DAG[idx]
            )
