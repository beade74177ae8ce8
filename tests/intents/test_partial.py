"""Honest partial answers: on topic, but the reports do not give what was asked (its kind or its scope)."""

from __future__ import annotations

from pathlib import Path

import pytest

from intents import Engine, Outcome
from intents.asked import AskedKindsError, load_asked_kinds
from intents.evaluation import Case, Result
from knowledge import AnswerKind, Fact, Source


def test_another_year_gets_the_related_figure_and_says_what_is_missing(engine: Engine) -> None:
    answer = engine.ask("2025年企业开办要几天")
    assert answer.outcome is Outcome.PARTIAL and answer.fallback and answer.intent is None
    assert answer.entry is not None and answer.entry.id == "business_registration_time"
    assert answer.text.startswith("报道没有给出2025年的相关情况")
    assert "0.5个工作日" in answer.text and "12345" in answer.text and answer.sources


def test_a_kind_the_entry_does_not_give_is_said_plainly(engine: Engine) -> None:
    answer = engine.ask("16座绿色矿山分别在哪")
    assert answer.outcome is Outcome.PARTIAL and answer.fallback
    assert "报道没有给出所问的具体地点" in answer.text and "16座" in answer.text and "来源：" in answer.text


@pytest.mark.parametrize("question", ["企业开办要几天", "12345诉求办理多久调度一次", "办不成事去哪"])
def test_a_kind_the_entry_gives_is_answered(engine: Engine, question: str) -> None:
    assert engine.ask(question).outcome is Outcome.ANSWER


@pytest.mark.parametrize(
    ("question", "missing", "figure"),
    [
        ("17项标杆指标具体是哪17项", "所问的逐项明细", "17项"),  # a count is no list of the items
        ("为什么今年沙尘天气这么多", "所问的原因", "21天"),  # the reports give figures, not reasons
        ("蒙速办好用吗", "对此的评价", "蒙速办"),
        ("爱青城APP怎么注册", "所问的具体办理流程、材料或条件", "爱青城"),
        ("蒙牛以外的重点保障企业是谁", "所问的具体名称", "5户"),  # a count of firms names none of them
    ],
)
def test_what_the_reports_never_give_is_said_plainly_with_the_related_figure(
    engine: Engine, question: str, missing: str, figure: str
) -> None:
    answer = engine.ask(question)
    assert answer.outcome is Outcome.PARTIAL and answer.fallback
    assert answer.text.startswith(f"报道没有给出{missing}") and figure in answer.text and "12345" in answer.text


@pytest.mark.parametrize(
    ("question", "scope"),
    [
        ("新城区今年空气优良天数多少天", "新城区"),
        ("2020年第三季度交通健康指数排第几", "第三季度"),
        ("知识产权保护在自治区排名第几", "自治区"),  # the reports give the national rank only
    ],
)
def test_a_district_or_a_period_the_reports_do_not_cover_is_not_given_the_citys_figure(
    engine: Engine, question: str, scope: str
) -> None:
    answer = engine.ask(question)
    assert answer.outcome is not Outcome.ANSWER
    if answer.outcome is Outcome.PARTIAL:
        assert f"报道没有给出{scope}" in answer.text


@pytest.mark.parametrize(
    "question",
    ["政务大厅企业开办专区都有哪些单位入驻", "2020年第二季度交通健康指数排第几", "营商环境评价在自治区排第几"],
)
def test_the_list_or_period_the_reports_do_give_is_answered(engine: Engine, question: str) -> None:
    assert engine.ask(question).outcome is Outcome.ANSWER


def test_how_often_is_not_how_long() -> None:
    kinds = load_asked_kinds()
    assert [k.name for k in kinds.detect("企业开办要几天")] == ["duration"]
    assert [k.name for k in kinds.detect("多久调度一次")] == ["frequency"]
    assert {k.name for k in kinds.detect("需要哪些材料")} == {"list", "procedure"}
    assert kinds.detect("企业开办") == ()


def test_a_partial_counts_as_falling_back_in_the_evaluation(engine: Engine) -> None:
    partial = engine.ask("2025年企业开办要几天")
    oos = Result(Case("2025年企业开办要几天", (), 1), partial)
    in_scope = Result(Case("2025年企业开办要几天", ("0.5个工作日",), 2), partial)
    assert oos.correct and not oos.confidently_wrong
    assert not in_scope.correct and not in_scope.confidently_wrong


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("duration: {patterns: ['(多久'], satisfied_by: [duration], missing: x}", r"`duration`: `patterns`"),
        ("duration: {patterns: [多久], satisfied_by: [often], missing: x}", r"`duration`: `satisfied_by`"),
        ("duration: {patterns: [多久], satisfied_by: duration, missing: x}", r"`duration`: `satisfied_by` must be"),
        ("duration: {patterns: [多久], satisfied_by: [duration]}", r"`duration`: `missing` must be"),
        ("duration: {patterns: [多久], satisfied_by: [duration], missing: x, extra: 1}", "unknown field"),
        ("total: {patterns: [一共], satisfied_by: [count], missing: x, not_by_figures: '(增加'}", "`not_by_figures`"),
        ("", "must map"),
        ("a: [", "cannot read"),
    ],
)
def test_a_bad_table_fails_naming_file_entry_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "asked_kinds.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AskedKindsError, match=message) as info:
        load_asked_kinds(path)
    assert "asked_kinds.yaml" in str(info.value)


def test_a_kind_no_fact_gives_is_never_satisfied(tmp_path: Path) -> None:
    path = tmp_path / "asked.yaml"
    path.write_text("reason: {patterns: [为什么], satisfied_by: [], missing: 所问的原因}\n", encoding="utf-8")
    kinds = load_asked_kinds(path)
    asked = kinds.detect("为什么要这样")
    assert [k.name for k in asked] == ["reason"]
    every_kind = [_fact(kind, "某个数字") for kind in AnswerKind]
    assert kinds.unmet(asked, every_kind) == asked


def _fact(kind: AnswerKind, figure: str) -> Fact:
    return Fact(figure=figure, kind=kind, measures="测试", source=SOURCE, at=1)


SOURCE = Source(id="test", file="test.txt", title=None, publisher=None, date="2021-06-30", label="测试报道")


def test_a_change_is_no_total(engine: Engine) -> None:
    kinds = load_asked_kinds()
    asked = kinds.detect("今年沙尘天气一共有多少天")
    assert "total" in [k.name for k in asked]
    total = next(k for k in asked if k.name == "total")
    assert not total.given_by([_fact(AnswerKind.COUNT, "同比增加21天")])  # a change of 21 days: no total
    assert total.given_by([_fact(AnswerKind.COUNT, "128天")])
    answer = engine.ask("今年沙尘天气一共有多少天")
    assert answer.outcome is Outcome.PARTIAL and answer.text.startswith("报道没有给出所问的总数")
    assert "21天" in answer.text  # the change the report does give, cited
    assert engine.ask("自治区营商环境评价一共有多少项指标").outcome is not Outcome.PARTIAL  # 20项 is a total
