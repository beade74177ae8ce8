"""Which unit a question asks a count in, and which units a figure is given in."""

from __future__ import annotations

import pytest

from intents.analyzer import units_asked, units_given


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("惠及多少人", {"人"}),
        ("几户企业", {"家"}),
        ("多少亿", {"亿"}),
        ("几个工作日", {"天"}),
        ("多少", set()),
        ("审批了多少项", {"项"}),
        ("城市更新有多少个项目", set()),  # a noun that begins with a measure word: projects, counted in 个
        ("有几类型", set()),
    ],
)
def test_units_asked(text: str, units: set[str]) -> None:
    assert units_asked(text) == units


@pytest.mark.parametrize(
    ("figure", "units"),
    [
        ("27.27万人", {"万", "人"}),
        ("2051万余条", {"万", "条"}),
        ("六类审批流程图", {"类"}),
        ("100名", {"人"}),
        ("99.9%", {"百分"}),
        ("事项清单", set()),  # 项 without a number is no unit
    ],
)
def test_units_given(figure: str, units: set[str]) -> None:
    assert units_given(figure) == units
