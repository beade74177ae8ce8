"""Rendering replies as Telegram HTML."""

from __future__ import annotations

import pytest
from fake_bot_api import parse_html

from bot.service import Assistant
from bot.telegram import render
from intents import Engine, Outcome
from knowledge import KnowledgeBase


def test_figures_are_bold_and_everything_else_is_escaped() -> None:
    html = render.bold_figures("<b>开办</b> 需 0.5个工作日 & 费用为零费用", ("0.5个工作日", "零费用"))
    assert html == "&lt;b&gt;开办&lt;/b&gt; 需 <b>0.5个工作日</b> &amp; 费用为<b>零费用</b>"


def test_the_longest_figure_wins_where_figures_overlap() -> None:
    html = render.bold_figures("旗县1.5个工作日内，市本级1个工作日内", ("1个工作日", "1个工作日内", "1.5个工作日内"))
    assert html == "旗县<b>1.5个工作日内</b>，市本级<b>1个工作日内</b>"


def test_a_figure_with_markup_characters_is_escaped_inside_the_bold() -> None:
    assert render.bold_figures("A<B", ("<",)) == "A<b>&lt;</b>B"


def test_every_entry_renders_as_valid_telegram_html_with_its_figures_bold(engine: Engine, kb: KnowledgeBase) -> None:
    for entry in kb.entries.values():
        answer = engine.answer_entry(entry.id)
        text, bold = parse_html(render.render_answer(answer))
        assert text == f"{answer.reply}\n\n{answer.source_line}"
        assert all(any(f in b for b in bold) for f in answer.figures), entry.id  # a figure may sit in a longer one
        assert len(text) <= 4096


def test_suggestions_are_listed_with_the_12345_way_out(unsure_engine: Engine) -> None:
    answer = unsure_engine.ask("企业开办要几天")
    assert answer.outcome is Outcome.SUGGEST
    text, bold = parse_html(render.render_answer(answer))
    for s in answer.suggestions:
        assert s.question in text
    assert "12345" in bold and "来源：" in text


def test_hotline_guidance_drops_the_apology_but_keeps_the_citation(engine: Engine) -> None:
    answer = Assistant(engine).hotline_answer()
    text, bold = parse_html(render.render_answer(answer))
    assert text.startswith("建议拨打12345") and "抱歉" not in text
    assert "12345" in bold and "来源：" in text


@pytest.mark.parametrize("username", ["hohhot_helper_bot", "a<b"])
def test_fixed_texts_are_valid_html(kb: KnowledgeBase, username: str) -> None:
    for html in (render.start_text(kb), render.help_text(username), render.topic_text(kb.topics[0], 0, 2)):
        parse_html(html)
    text, _ = parse_html(render.help_text(username))
    assert f"@{username}" in text  # the username is escaped, shown as written, never read as markup


def test_inline_description_is_one_short_line(engine: Engine, kb: KnowledgeBase) -> None:
    for entry in kb.entries.values():
        description = render.inline_description(engine.answer_entry(entry.id))
        assert len(description) <= 60 and "\n" not in description
