"""Each scoring feature on its own: plain inputs in, the value a reader would expect out."""

from __future__ import annotations

import pytest

from intents import features


def test_coverage_is_the_weighted_share_explained() -> None:
    weights = {"企业": 1.0, "开办": 1.0, "多久": 0.3}
    credit = {"企业": 1.0, "开办": 0.5}.get
    assert features.coverage(weights, lambda t: credit(t, 0.0)) == pytest.approx((1.0 + 0.5) / 2.3)
    assert features.coverage(weights, lambda t: 1.0) == pytest.approx(1.0)
    assert features.coverage({}, lambda t: 1.0) == 0.0


def test_overlap_is_weighted_jaccard() -> None:
    weights = {"企业": 1.0, "注销": 1.0}
    assert features.overlap(weights, frozenset({"企业", "注销"}), 2.0) == pytest.approx(1.0)
    assert features.overlap(weights, frozenset({"企业", "开办"}), 2.0) == pytest.approx(1.0 / 3.0)
    assert features.overlap(weights, frozenset({"护照"}), 1.0) == 0.0


def test_char_similarity_is_zero_to_one() -> None:
    assert features.char_similarity("企业开办多久", "企业开办多久") == 1.0
    assert 0.0 < features.char_similarity("企业开办多久", "企业注销多久") < 1.0
    assert features.char_similarity("企业", "护照") == 0.0


def test_a_year_the_intent_never_uses_is_a_mismatch() -> None:
    vocab = {"2020": 1.0, "2021": 0.5}  # 2021 only in the reply (the report's year): it says when, not what
    assert features.year_mismatch(["2020"], vocab) == 0
    assert features.year_mismatch(["2021"], vocab) == 1
    assert features.year_mismatch(["2021", "2022"], vocab) == 2


def test_a_place_is_a_mismatch_only_when_never_mentioned() -> None:
    mentioned = {"和林格尔": 0.4}.get
    assert features.place_mismatch(["和林格尔"], lambda t: mentioned(t, 0.0)) == 0
    assert features.place_mismatch(["包头"], lambda t: mentioned(t, 0.0)) == 1


def test_a_count_in_another_unit_is_a_mismatch() -> None:
    assert features.unit_mismatch({"人"}, ["百分"]) == 1
    assert features.unit_mismatch({"人"}, ["万", "人"]) == 0
    assert features.unit_mismatch(set(), ["人"]) == 0


def test_a_detail_the_examples_never_ask_is_a_mismatch() -> None:
    assert features.detail_mismatch(["电话"], {"电话": 1.0}) == 0
    assert features.detail_mismatch(["电话"], {"电话": 0.5}) == 1  # only the reply says 电话: not asked about it


def test_a_list_question_needs_a_list_or_an_example_asking_one() -> None:
    assert features.list_mismatch(["哪些"], {}, reply_lists=True) == 0
    assert features.list_mismatch(["哪些"], {"哪些": 1.0}, reply_lists=False) == 0
    assert features.list_mismatch(["哪些"], {}, reply_lists=False) == 1


def test_features_are_named_for_explanations() -> None:
    named = features.Features(coverage=0.5, unit_mismatch=1).as_dict()
    assert named["coverage"] == 0.5 and named["unit_mismatch"] == 1.0
    assert set(features.MISMATCH_KINDS) <= named.keys()
