"""The analyzer keeps domain terms whole, maps synonyms and repairs homophone typos."""

from __future__ import annotations

import pytest

from intents import Engine


@pytest.mark.parametrize("term", ["企业开办", "办不成事", "好差评", "接诉即办", "蒙速办", "12345", "稳岗返还"])
def test_domain_terms_are_never_split(engine: Engine, term: str) -> None:
    assert term in engine.analyzer.analyze(f"请问{term}怎么样").tokens


@pytest.mark.parametrize("variant", ["开公司", "注册公司", "办营业执照", "开办企业"])
def test_synonyms_map_to_the_canonical_term(engine: Engine, variant: str) -> None:
    assert engine.analyzer.analyze(f"{variant}要几天").tokens == ("企业开办", "多久")


def test_city_nicknames_and_politeness_carry_no_weight(engine: Engine) -> None:
    plain = engine.analyzer.analyze("企业开办要几天").tokens
    assert engine.analyzer.analyze("请问一下呼市这边企业开办大概要几天呢").tokens == plain
    assert engine.analyzer.analyze("首府企业开办要几天").tokens == plain
    assert engine.analyzer.analyze("青城企业开办要几天啊").tokens == plain


@pytest.mark.parametrize(("typo", "fixed"), [("企业开半", "企业开办"), ("注消", "注销"), ("好差平", "好差评")])
def test_homophone_typos_of_domain_terms_are_repaired(engine: Engine, typo: str, fixed: str) -> None:
    assert fixed in engine.analyzer.analyze(f"{typo}要多久").tokens


def test_real_words_that_sound_like_domain_terms_are_left_alone(engine: Engine) -> None:
    # 事业 (career) sounds like 失业 (unemployment) but is a word of its own.
    assert (
        "事业" in engine.analyzer.analyze("事业单位").tokens or "事业单位" in engine.analyzer.analyze("事业单位").tokens
    )


@pytest.mark.parametrize(
    ("typo", "fixed"),
    [
        ("企业注削", "企业注销"),  # 削 is read xue first, xiao here: every reading of a typed character is tried
        ("稳岗返换", "稳岗返还"),  # 还 is read hai first, huan in 返还: the domain word's phrase reading counts
    ],
)
def test_typos_on_polyphonic_characters_are_repaired(engine: Engine, typo: str, fixed: str) -> None:
    assert fixed in engine.analyzer.correct_homophones(typo)


def test_a_rare_reading_never_turns_ordinary_words_into_a_domain_term(engine: Engine) -> None:
    # 什 can be read shi and 么 yao, but 什么 is only ever shen me: "公示要" must stay as typed.
    assert engine.analyzer.correct_homophones("简易注销的公示要等几天") == "简易注销的公示要等几天"
