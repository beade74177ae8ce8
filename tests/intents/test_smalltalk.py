"""Small talk gets a short reply from the knowledge data: never the apology, never unrelated suggestions."""

from __future__ import annotations

from pathlib import Path

import pytest

from intents import Engine, Outcome
from intents.smalltalk import SmallTalkError, load_smalltalk

APOLOGY = "资料中没有找到"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("你好", "您好"),
        ("您好呀！", "您好"),
        ("Hello", "您好"),
        ("谢谢你！", "不客气"),
        ("你是谁", "问答助手"),
        ("你能做什么？", "企业开办"),
        ("再见", "再见"),
        ("真棒👍", "肯定"),
        ("没用", "12345"),
        ("测试", "在线"),
    ],
)
def test_small_talk_gets_its_reply(engine: Engine, message: str, expected: str) -> None:
    answer = engine.ask(message)
    assert answer.outcome is Outcome.SMALLTALK
    assert expected in answer.text and APOLOGY not in answer.text
    assert answer.suggestions == () and answer.sources == () and answer.intent is None


@pytest.mark.parametrize("message", ["你好，企业开办要几天", "谢谢，办不成事去哪反映", "12345", "测试报告在哪"])
def test_a_greeting_never_hides_a_question(engine: Engine, message: str) -> None:
    assert engine.ask(message).outcome is not Outcome.SMALLTALK


def test_explain_names_small_talk(engine: Engine) -> None:
    explanation = engine.explain("谢谢")
    assert explanation.outcome == "smalltalk" and explanation.reason == "small talk: thanks"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kinds: {hi: {phrases: [你好]}}", r"kind `hi`: `reply` must be"),
        ("kinds: {hi: {phrases: [], reply: x}}", r"kind `hi`: `phrases` must be"),
        ("kinds: {hi: {phrases: [你好], reply: x, extra: 1}}", r"kind `hi`: unknown field"),
        ("kinds: {a: {phrases: [你好], reply: x}, b: {phrases: [你好], reply: y}}", "also in kind `a`"),
        ("fillers: 啊", r"`kinds` must be"),
        ("kinds: [", "cannot read"),
    ],
)
def test_a_bad_smalltalk_file_fails_naming_file_kind_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "smalltalk.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SmallTalkError, match=message) as info:
        load_smalltalk(path)
    assert "smalltalk.yaml" in str(info.value)
