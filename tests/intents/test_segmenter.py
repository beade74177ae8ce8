"""The trie tokenizer segments exactly as jieba's own tokenizer does on the same dictionary and added words."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from intents import Engine
from intents._jieba import jieba
from intents.cache import CacheMismatch
from intents.evaluation import load_cases
from intents.lexicon import DATA_DIR
from intents.normalize import normalize
from intents.segmenter import Dictionary, TrieTokenizer

ROOT = Path(__file__).resolve().parents[2]
DEV_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev-questions.tsv"
QUESTION_FILES = [*sorted((ROOT / "tests" / "data").glob("*.tsv")), DEV_QUESTIONS]


def _questions() -> list[str]:
    return [case.question for path in QUESTION_FILES for case in load_cases(path)]


@pytest.fixture(scope="module")
def tokenizers(engine: Engine) -> tuple[TrieTokenizer, jieba.Tokenizer]:
    """Return the engine's tokenizer and jieba's, built from the same file with the same words added."""
    ours = engine.analyzer.lexicon.tokenizer
    theirs = jieba.Tokenizer(dictionary=str(DATA_DIR / "base_dict.txt"))
    with theirs.get_dict_file() as f:
        theirs.FREQ, theirs.total = theirs.gen_pfdict(f)
    theirs.initialized = True
    for word, freq in ours.vocabulary.added.items():
        theirs.add_word(word, freq=freq)
    return ours, theirs


def test_every_question_of_every_set_is_cut_as_jieba_cuts_it(tokenizers: tuple[TrieTokenizer, jieba.Tokenizer]) -> None:
    ours, theirs = tokenizers
    questions = _questions()
    assert len(questions) > 2000
    assert ours.total == theirs.total
    for question in questions:
        for text in (question, normalize(question)):
            assert list(ours.cut(text, HMM=False)) == list(theirs.cut(text, HMM=False)), text


def test_runs_of_dictionary_words_are_cut_as_jieba_cuts_them(tokenizers: tuple[TrieTokenizer, jieba.Tokenizer]) -> None:
    """Random strings of overlapping words exercise every branch of the route choice."""
    ours, theirs = tokenizers
    rng = random.Random(12345)
    words = [w for w, _ in ours.vocabulary.items()]
    for _ in range(3000):
        text = "".join(rng.choice(words) for _ in range(rng.randint(1, 6)))
        cut = rng.randint(0, len(text) - 1)
        text = text[cut:] + text[:cut]  # start inside a word
        assert list(ours.cut(text, HMM=False)) == list(theirs.cut(text, HMM=False)), text
        assert list(ours.cut(text)) == list(theirs.cut(text)), text  # jieba's HMM path reads FREQ


def test_frequencies_are_jiebas(tokenizers: tuple[TrieTokenizer, jieba.Tokenizer]) -> None:
    ours, theirs = tokenizers
    for word in ["企业", "企", "营商环境", "12345", "好差评", "不是一个词吗", "呼和浩"]:
        assert ours.frequency(word) == (theirs.FREQ.get(word) or 0), word
        assert ours.FREQ.get(word) == theirs.FREQ.get(word), word  # 0 for a prefix, None for a non-word


def test_a_word_added_with_frequency_zero_is_never_cut_out() -> None:
    dictionary = Dictionary.parse("企业 100\n开办 80\n企业开办 50\n", [])
    tokenizer = TrieTokenizer(dictionary)
    assert list(tokenizer.cut("企业开办", HMM=False)) == ["企业开办"]
    tokenizer.add_word("企业开办", freq=0)
    assert list(tokenizer.cut("企业开办", HMM=False)) == ["企业", "开办"]
    assert list(tokenizer.cut("营商", HMM=False)) == ["营", "商"]
    tokenizer.add_word("营商", freq=10)
    assert list(tokenizer.cut("营商", HMM=False)) == ["营商"]


@pytest.mark.parametrize(
    ("text", "where"),
    [("企业 100\n开办\n", "line 2"), ("企业 many\n", "line 1"), ("企业 -3\n", "line 1")],
)
def test_a_malformed_dictionary_line_is_named(text: str, where: str) -> None:
    with pytest.raises(ValueError, match=rf"base_dict\.txt, {where}"):
        Dictionary.parse(text, [])


def test_an_unknown_word_class_is_named() -> None:
    with pytest.raises(ValueError, match=r"word_classes\.txt, entry 1: unknown class 'x'"):
        Dictionary.parse("企业 100\n", ["企业 x"])


def test_the_cache_round_trip_keeps_every_word_and_refuses_what_does_not_fit() -> None:
    dictionary = Dictionary.parse("企业 100\n开办 80\n是 900\n", ["是 v"])
    value = dictionary.to_cache()
    again = Dictionary.from_cache(value, [("企业", 100)], 3, ())
    assert dict(again.items()) == {"企业": 100, "开办": 80, "是": 900}
    assert again.word_class("是") == "v" and again.word_class("企业") == "" and again.total == 1080
    grown = dictionary.with_added({"营商": 10, "企业": 0})
    assert dict(grown.items()) == {"开办": 80, "是": 900, "营商": 10} and grown.total == 1090
    assert grown.word_class("是") == "v"
    assert Dictionary.from_cache(grown.to_cache(), [], 3, {"营商", "企业"}).frequency("营商") == 10
    with pytest.raises(CacheMismatch, match="other added words"):
        Dictionary.from_cache(grown.to_cache(), [], 3, {"营商"})
    with pytest.raises(CacheMismatch, match="another frequency"):
        Dictionary.from_cache(value, [("企业", 101)], 3, ())
    with pytest.raises(CacheMismatch, match="3 words for 4"):
        Dictionary.from_cache(value, [], 4, ())
    with pytest.raises(CacheMismatch, match="not a trie"):
        Dictionary.from_cache((b"garbage", *value[1:]), [], 3, ())
    with pytest.raises(CacheMismatch, match="do not match"):
        Dictionary.from_cache((value[0], value[1][:-4], *value[2:]), [], 3, ())
