"""Start-up caches: validated on load and rebuilt when they don't fit, used when read-only, harmless on a full disk."""

from __future__ import annotations

import errno
import logging
import marshal
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from intents import Engine, cache, matcher
from intents.matcher import IntentDoc, index_key
from intents.segmenter import Dictionary
from knowledge import KnowledgeBase

QUESTION = "企业开办要几天"
FIGURE = "0.5个工作日"


@pytest.fixture(autouse=True)
def _fresh_warnings() -> Iterator[None]:
    cache._warned.clear()
    yield
    cache._warned.clear()


def _answers_right(engine: Engine) -> bool:
    answer = engine.ask(QUESTION)
    return answer.intent is not None and FIGURE in answer.text


def _only(folder: Path, pattern: str) -> Path:
    (path,) = folder.glob(pattern)
    return path


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "intents.cache" and r.levelno >= logging.WARNING]


@pytest.fixture(scope="module")
def built(kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a cache folder that an engine on the real knowledge base has filled, once for the module."""
    folder = tmp_path_factory.mktemp("built") / "cache"
    Engine(kb, cache_dir=folder)
    assert _only(folder, "index-*.marshal") and _only(folder, "jieba-*.cache")
    return folder


@pytest.fixture
def warm(built: Path, tmp_path: Path) -> Path:
    """Return this test's own copy of a cache folder holding valid caches for the real knowledge base."""
    return Path(shutil.copytree(built, tmp_path / "cache"))


def _overwrite(path: Path, value: Any) -> None:
    path.write_bytes(marshal.dumps(value))


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda p: _overwrite(p, ("a", "b", "c")), id="wrong-layout"),
        pytest.param(lambda p: _overwrite(p, tuple([[]] * 12)), id="empty-lists"),
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), id="truncated"),
        pytest.param(lambda p: p.write_bytes(b"\x00garbage"), id="garbage"),
    ],
)
def test_a_bad_index_cache_is_rebuilt_and_logged(
    kb: KnowledgeBase, warm: Path, corrupt: Any, caplog: pytest.LogCaptureFixture
) -> None:
    index = _only(warm, "index-*.marshal")
    good = index.read_bytes()
    corrupt(index)
    with caplog.at_level(logging.WARNING):
        engine = Engine(kb, cache_dir=warm)
    assert _answers_right(engine)
    assert index.read_bytes() == good, "the rebuilt index replaces the bad file"
    (record,) = _warnings(caplog)
    assert index.name in record.getMessage() and record.exc_info is None


def test_an_index_cache_with_wrongly_typed_fields_is_rebuilt(kb: KnowledgeBase, warm: Path) -> None:
    """Well-formed marshal data of the right layout whose fields hold other types (the old 500s)."""
    index = _only(warm, "index-*.marshal")
    state = list(marshal.loads(index.read_bytes()))
    state[2] = [1] * len(state[2])  # vocabularies become numbers: every question raised AttributeError
    _overwrite(index, tuple(state))
    assert _answers_right(Engine(kb, cache_dir=warm))


def test_an_index_cache_pointing_past_its_examples_is_rebuilt(kb: KnowledgeBase, warm: Path) -> None:
    index = _only(warm, "index-*.marshal")
    state = list(marshal.loads(index.read_bytes()))
    state[5] = {token: [10**6] for token in state[5]}  # postings name examples that do not exist
    _overwrite(index, tuple(state))
    assert _answers_right(Engine(kb, cache_dir=warm))


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(({}, 0), id="empty-dictionary"),
        pytest.param(({"企业": 5}, 5), id="a-few-words"),
        pytest.param([1, 2], id="wrong-type"),
        pytest.param(Dictionary.parse("企业 5\n", []).to_cache(), id="a-trie-of-one-word"),
        pytest.param((b"", b"", b"", 1), id="empty-bytes"),
    ],
)
def test_a_jieba_cache_that_does_not_fit_is_rebuilt(
    kb: KnowledgeBase, engine: Engine, warm: Path, value: Any, caplog: pytest.LogCaptureFixture
) -> None:
    prefix = _only(warm, "jieba-*.cache")
    good = prefix.read_bytes()
    _overwrite(prefix, value)
    with caplog.at_level(logging.WARNING):
        rebuilt = Engine(kb, cache_dir=warm)
    assert _answers_right(rebuilt)
    for question in ("营商环境的评价结果怎么样", "政府采购的项目有哪些", "不动产登记需要多长时间"):  # ordinary words
        assert rebuilt.analyzer.analyze(question) == engine.analyzer.analyze(question)
    assert prefix.read_bytes() == good
    assert len(_warnings(caplog)) == 1


def test_a_read_only_cache_folder_with_valid_caches_is_used(
    kb: KnowledgeBase, warm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> Any:
        raise PermissionError(errno.EROFS, "Read-only file system")

    def no_rebuild(*args: object, **kwargs: object) -> None:
        raise AssertionError("rebuilt although a valid cache was there")

    os.chmod(warm, 0o555)
    try:
        monkeypatch.setattr(cache.tempfile, "mkstemp", refuse)  # root ignores the mode bits; refuse writes anyway
        monkeypatch.setattr(matcher.Matcher, "_build", no_rebuild)
        monkeypatch.setattr("intents.lexicon.Dictionary.parse", no_rebuild)
        assert _answers_right(Engine(kb, cache_dir=warm))
    finally:
        os.chmod(warm, 0o755)


def test_a_full_disk_leaves_no_temp_files_and_no_traceback(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def full(value: object, f: Any) -> None:
        f.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache.marshal, "dump", full)
    folder = tmp_path / "full"
    with caplog.at_level(logging.DEBUG):
        first = Engine(kb, cache_dir=folder)
        second = Engine(kb, cache_dir=folder)
    assert _answers_right(first) and _answers_right(second)
    assert list(folder.iterdir()) == [], "no cache and no orphaned temp file"
    assert all(r.exc_info is None for r in caplog.records), "no traceback"
    (record,) = _warnings(caplog)  # once per process, not once per file or start
    assert "No space left on device" in record.getMessage()


def test_the_index_key_covers_every_input(kb: KnowledgeBase, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = IntentDoc(id="a", questions=("企业开办要几天",), reply="r", terms=("t",), figures=("1天",))
    key = index_key(engine.analyzer, [doc])
    for changed in (
        replace(doc, figures=("2天",)),
        replace(doc, terms=("u",)),
        replace(doc, reply="s"),
        replace(doc, questions=("注销要几天",)),
        replace(doc, id="b"),
    ):
        assert index_key(engine.analyzer, [changed]) != key, changed
    monkeypatch.setattr(matcher, "REPLY_WORD_CREDIT", 0.25)  # a setting changed at run time
    assert index_key(engine.analyzer, [doc]) != key
    monkeypatch.undo()
    monkeypatch.setattr(matcher, "_CODE", matcher._CODE + b"#")  # the code that builds the index
    assert index_key(engine.analyzer, [doc]) != key


def test_without_a_cache_nothing_is_written(kb: KnowledgeBase, tmp_path: Path) -> None:
    assert cache.Cache(None).load("x", lambda v: v) is None
    assert cache.Cache(None).store("x", 1) is False
    assert cache.Cache(tmp_path).store("x", 1) and cache.Cache(tmp_path).load("x", int) == 1
