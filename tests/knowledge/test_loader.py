"""The loader fails fast: every problem is reported with its file, entry and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge import DATA_DIR, AnswerKind, KnowledgeBaseError, check_knowledge_base, load_knowledge_base

GOOD_TOPIC = """\
topic:
  id: demo
  title: 演示
entries:
  - id: demo_entry
    questions: [企业开办要几天, 开公司多久, 注册公司几天, 办执照要多久, 开办企业时间]
    reply: 据2021年报道，市本级企业开办平均办理时间已压缩至0.5个工作日。
    facts:
      - figure: 0.5个工作日
        kind: duration
        measures: 市本级企业开办平均办理时间
        source: hohhot-2021
        at: 1
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Return a copy of the real sources and fallback with one small topic file."""
    shutil.copy(DATA_DIR / "sources.yaml", tmp_path / "sources.yaml")
    shutil.copy(DATA_DIR / "fallback.yaml", tmp_path / "fallback.yaml")
    (tmp_path / "topics").mkdir()
    (tmp_path / "topics" / "demo.yaml").write_text(GOOD_TOPIC, encoding="utf-8")
    return tmp_path


def _problems(data_dir: Path) -> list[str]:
    kb, problems = check_knowledge_base(data_dir)
    assert kb is None
    return [str(p) for p in problems]


def test_the_packaged_knowledge_base_is_valid() -> None:
    kb, problems = check_knowledge_base()
    assert problems == []
    assert kb is not None and len(kb.entries) >= 60


def test_a_valid_file_loads(data_dir: Path) -> None:
    kb = load_knowledge_base(data_dir)
    entry = kb.entries["demo_entry"]
    assert entry.figures == ("0.5个工作日",)
    assert entry.facts[0].kind is AnswerKind.DURATION
    assert entry.sources[0].id == "hohhot-2021"


def test_a_figure_missing_from_the_reply_is_named(data_dir: Path) -> None:
    path = data_dir / "topics" / "demo.yaml"
    path.write_text(GOOD_TOPIC.replace("0.5个工作日。", "半个工作日。"), encoding="utf-8")
    assert _problems(data_dir) == [
        "demo.yaml: entry 'demo_entry': field 'facts[0].figure': figure '0.5个工作日' does not appear in the reply"
    ]


def test_an_unknown_source_is_named(data_dir: Path) -> None:
    path = data_dir / "topics" / "demo.yaml"
    path.write_text(GOOD_TOPIC.replace("source: hohhot-2021", "source: people-daily"), encoding="utf-8")
    assert _problems(data_dir) == [
        "demo.yaml: entry 'demo_entry': field 'facts[0].source': unknown source id 'people-daily'"
    ]


def test_a_duplicate_id_across_files_is_named(data_dir: Path) -> None:
    (data_dir / "topics" / "other.yaml").write_text(GOOD_TOPIC.replace("id: demo\n", "id: other\n"), encoding="utf-8")
    assert _problems(data_dir) == [
        "other.yaml: entry 'demo_entry': field 'id': duplicate id (first defined in demo.yaml)"
    ]


def test_too_few_and_empty_questions_are_named(data_dir: Path) -> None:
    path = data_dir / "topics" / "demo.yaml"
    path.write_text(
        GOOD_TOPIC.replace(
            "[企业开办要几天, 开公司多久, 注册公司几天, 办执照要多久, 开办企业时间]", '[企业开办要几天, "  "]'
        ),
        encoding="utf-8",
    )
    assert _problems(data_dir) == [
        "demo.yaml: entry 'demo_entry': field 'questions[1]': must be a non-empty string",
        "demo.yaml: entry 'demo_entry': field 'questions': needs at least 5 example questions, has 1",
    ]


def test_malformed_yaml_is_reported_with_its_line(data_dir: Path) -> None:
    (data_dir / "topics" / "broken.yaml").write_text("topic: {id: x\nentries: [\n", encoding="utf-8")
    problems = _problems(data_dir)
    assert len(problems) == 1
    assert problems[0].startswith("broken.yaml: invalid YAML at line")


def test_every_problem_is_reported_at_once(data_dir: Path) -> None:
    path = data_dir / "topics" / "demo.yaml"
    text = GOOD_TOPIC.replace("source: hohhot-2021", "source: nope")
    text = text.replace("measures: 市本级企业开办平均办理时间", "measures: ''")
    path.write_text(text, encoding="utf-8")
    problems = _problems(data_dir)
    assert any("facts[0].measures" in p for p in problems)
    assert any("facts[0].source" in p for p in problems)


def test_load_raises_with_every_problem(data_dir: Path) -> None:
    (data_dir / "fallback.yaml").unlink()
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(data_dir)
    assert "fallback.yaml: file is missing" in str(info.value)


def test_an_unknown_related_id_is_named(data_dir: Path) -> None:
    path = data_dir / "topics" / "demo.yaml"
    path.write_text(GOOD_TOPIC + "    related: [no_such_entry]\n", encoding="utf-8")
    assert _problems(data_dir) == ["demo.yaml: entry 'demo_entry': field 'related': unknown entry id 'no_such_entry'"]


def test_a_folded_reply_with_a_space_between_chinese_characters_is_named(data_dir: Path) -> None:
    path = data_dir / "topics" / "demo.yaml"
    path.write_text(GOOD_TOPIC.replace("市本级企业开办", "市本级 企业开办", 1), encoding="utf-8")
    assert _problems(data_dir) == [
        "demo.yaml: entry 'demo_entry': field 'reply': has a space between Chinese characters (a folded YAML line?)"
    ]


def test_an_unquoted_date_figure_is_explained(data_dir: Path) -> None:
    path = data_dir / "topics" / "demo.yaml"
    path.write_text(GOOD_TOPIC.replace("figure: 0.5个工作日", "figure: 2020-09-15"), encoding="utf-8")
    assert "must be a quoted string (YAML read datetime.date(2020, 9, 15) as a date)" in _problems(data_dir)[0]


def test_a_duplicate_or_malformed_source_id_is_named(data_dir: Path) -> None:
    text = (data_dir / "sources.yaml").read_text(encoding="utf-8")
    first = text[text.index("  - id: nmgrb-2020") : text.index("  - id: hohhot-2021")]
    (data_dir / "sources.yaml").write_text(text + first + first.replace("nmgrb-2020", "Bad Id"), encoding="utf-8")
    problems = _problems(data_dir)
    assert "sources.yaml: entry 'nmgrb-2020': field 'id': duplicate source id" in problems
    assert "sources.yaml: entry 'Bad Id': field 'id': must be lower-case letters, digits and hyphens" in problems


def test_a_missing_kind_is_named_with_the_allowed_values(data_dir: Path) -> None:
    path = data_dir / "topics" / "demo.yaml"
    path.write_text(GOOD_TOPIC.replace("        kind: duration\n", ""), encoding="utf-8")
    assert _problems(data_dir) == [
        "demo.yaml: entry 'demo_entry': field 'facts[0].kind': is missing: one of "
        "duration, count, amount, percentage, date, rank, name, list, place, procedure, contact, yes_no, description"
    ]


def test_an_unknown_kind_is_named(data_dir: Path) -> None:
    path = data_dir / "topics" / "demo.yaml"
    path.write_text(GOOD_TOPIC.replace("kind: duration", "kind: time"), encoding="utf-8")
    problems = _problems(data_dir)
    assert len(problems) == 1
    assert problems[0].startswith("demo.yaml: entry 'demo_entry': field 'facts[0].kind': unknown kind 'time'")


def test_a_missing_kind_in_the_fallback_is_named(data_dir: Path) -> None:
    path = data_dir / "fallback.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("    kind: contact\n", "", 1), encoding="utf-8")
    problems = _problems(data_dir)
    assert len(problems) == 1
    assert problems[0].startswith("fallback.yaml: entry 'fallback': field 'facts[0].kind': is missing")


def test_a_misspelt_fact_field_is_named(data_dir: Path) -> None:
    path = data_dir / "topics" / "demo.yaml"
    path.write_text(GOOD_TOPIC.replace("kind: duration", "kind: duration\n        as-of: '2021'"), encoding="utf-8")
    assert _problems(data_dir) == ["demo.yaml: entry 'demo_entry': field 'facts[0]': unknown field(s): as-of"]


def test_every_packaged_fact_has_a_kind_and_the_kinds_are_in_use() -> None:
    kb = load_knowledge_base()
    facts = [f for e in kb.entries.values() for f in e.facts] + list(kb.fallback.facts)
    used = {f.kind for f in facts}
    assert used == set(AnswerKind)
    durations = {f.figure for f in facts if f.kind is AnswerKind.DURATION}
    assert "0.5个工作日" in durations and "20分钟内" in durations


def _fact_topic(reply: str, facts: str) -> str:
    """Return the demo topic with another reply and facts block."""
    head = GOOD_TOPIC[: GOOD_TOPIC.index("    reply:")]
    return f"{head}    reply: {reply}\n    facts:\n{facts}"


def test_a_missing_or_malformed_locator_is_named(data_dir: Path) -> None:
    path = data_dir / "topics" / "demo.yaml"
    line = "        at: 1\n"
    path.write_text(GOOD_TOPIC.replace(line, ""), encoding="utf-8")
    where = "demo.yaml: entry 'demo_entry': field 'facts[0].at': must be a positive integer"
    assert _problems(data_dir) == [f"{where}: which occurrence of the figure in its report (missing)"]
    for bad, shown in (("0", "0"), ("-2", "-2"), ("true", "True"), ('"1"', "'1'"), ("1.5", "1.5")):
        path.write_text(GOOD_TOPIC.replace(line, f"        at: {bad}\n"), encoding="utf-8")
        assert _problems(data_dir) == [f"{where}: which occurrence of the figure in its report ({shown})"], bad


def test_a_quote_field_is_refused_as_unknown(data_dir: Path) -> None:
    path = data_dir / "topics" / "demo.yaml"
    quoted = GOOD_TOPIC.replace("        at: 1\n", "        at: 1\n        quote: 0.5个工作日\n")
    path.write_text(quoted, encoding="utf-8")
    assert _problems(data_dir) == ["demo.yaml: entry 'demo_entry': field 'facts[0]': unknown field(s): quote"]


ONLINE = """\
      - figure: 807项
        kind: count
        measures: 纳入“网上大厅”的事项数
        as_of: "2021"
        source: hohhot-2021
        at: 1
      - figure: 3700余项
        kind: count
        measures: {older}
        as_of: "2020-09"
        source: nmgrb-2020
        at: 1
"""


def test_history_that_measures_something_else_is_refused(data_dir: Path) -> None:
    path = data_dir / "topics" / "demo.yaml"
    reply = "据2021年报道，807项事项纳入“网上大厅”。2020年9月报道时，平台发布政务服务事项3700余项。"
    path.write_text(_fact_topic(reply, ONLINE.format(older="平台发布的各级各类政务服务事项数")), encoding="utf-8")
    problems = _problems(data_dir)
    assert len(problems) == 1
    assert problems[0].startswith(
        "demo.yaml: entry 'demo_entry': field 'facts[1].measures': the reply gives '3700余项'"
    )
    assert problems[0].endswith("history must measure the same thing")
    path.write_text(
        _fact_topic(reply, ONLINE.format(older="纳入“网上大厅”的事项数（2020年9月报道）")), encoding="utf-8"
    )
    assert load_knowledge_base(data_dir).entries["demo_entry"].figures == ("807项", "3700余项")


@pytest.mark.parametrize("text", ["", "\n\n", "# all entries commented out\n# entries:\n", "---\n"])
def test_an_empty_or_comment_only_topic_file_is_an_error_naming_it(data_dir: Path, text: str) -> None:
    (data_dir / "topics" / "ecology.yaml").write_text(text, encoding="utf-8")
    assert _problems(data_dir) == ["ecology.yaml: is empty (nothing but blank lines or comments)"]


def test_an_empty_fallback_is_one_error_naming_it(data_dir: Path) -> None:
    (data_dir / "fallback.yaml").write_text("# nothing yet\n", encoding="utf-8")
    assert _problems(data_dir) == ["fallback.yaml: is empty (nothing but blank lines or comments)"]
    with pytest.raises(KnowledgeBaseError, match=r"1 error\(s\):\n  fallback.yaml: is empty"):
        load_knowledge_base(data_dir)


@pytest.mark.parametrize("text", ["", "# sources:\n", "sources: []\n"])
def test_empty_sources_are_one_error_naming_the_file_not_a_cascade(data_dir: Path, text: str) -> None:
    (data_dir / "sources.yaml").write_text(text, encoding="utf-8")
    problems = _problems(data_dir)
    assert len(problems) == 1
    assert problems[0].startswith("sources.yaml:")


def test_empty_sources_beside_the_real_topics_are_still_one_error(tmp_path: Path) -> None:
    shutil.copytree(DATA_DIR, tmp_path / "data")
    (tmp_path / "data" / "sources.yaml").write_text("", encoding="utf-8")
    assert _problems(tmp_path / "data") == ["sources.yaml: is empty (nothing but blank lines or comments)"]
