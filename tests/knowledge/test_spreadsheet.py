"""The curators' spreadsheet round trip: export, edit in a workbook, import through the same validation."""

from __future__ import annotations

import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook, load_workbook

from bot.cli import main
from knowledge import DATA_DIR, AnswerKind, load_knowledge_base
from knowledge.spreadsheet import SpreadsheetError, dump_topic, export_workbook, import_workbook, topic_data


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Return a copy of the packaged knowledge folder."""
    shutil.copytree(DATA_DIR, tmp_path / "data")
    return tmp_path / "data"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return one export of the packaged knowledge base, made once for the module."""
    path = tmp_path_factory.mktemp("export") / "kb.xlsx"
    export_workbook(load_knowledge_base(), path)
    return path


@pytest.fixture
def workbook(exported: Path, tmp_path: Path) -> Path:
    """Return a fresh copy of that export (of the same data as `data_dir`) for a test to edit."""
    return Path(shutil.copy(exported, tmp_path / "kb.xlsx"))


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*.yaml"))}


def _edit(path: Path, entry_id: str, column: str, value: object) -> int:
    """Set one cell of an entry's row in the 'entries' sheet; return the row number."""
    book = load_workbook(path)
    sheet = book["entries"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == entry_id)
    sheet.cell(row, header.index(column) + 1).value = value
    book.save(path)
    return row


def test_the_yaml_writer_reproduces_every_packaged_topic_file() -> None:
    kb = load_knowledge_base()
    for path in sorted((DATA_DIR / "topics").glob("*.yaml")):
        topic_id = yaml.safe_load(path.read_text(encoding="utf-8"))["topic"]["id"]
        topic = next(t for t in kb.topics if t.id == topic_id)
        assert dump_topic(topic_data(topic, kb.topic_entries(topic_id))) == path.read_text(encoding="utf-8"), path


def test_an_unchanged_export_changes_no_file(data_dir: Path, workbook: Path) -> None:
    before = _snapshot(data_dir)
    result = import_workbook(workbook, data_dir)
    assert result.written == ()
    assert result.unchanged == len(list((data_dir / "topics").glob("*.yaml")))
    assert _snapshot(data_dir) == before


def test_the_workbook_has_one_row_per_entry_with_its_facts(data_dir: Path, workbook: Path) -> None:
    book = load_workbook(workbook, read_only=True)
    rows = list(book["entries"].iter_rows(values_only=True))
    book.close()
    header, by_id = rows[0], {r[0]: r for r in rows[1:]}
    facts = tuple(f"{f} 1" for f in ("figure", "kind", "measures", "as_of", "source", "at"))
    assert header[:11] == ("id", "topic", "questions", "reply", "related", *facts)
    assert len(by_id) == len(load_knowledge_base(data_dir).entries)
    row = by_id["business_registration_time"]
    assert row[1] == "business_registration" and "企业开办要几天" in str(row[2]).split("\n")
    assert row[5:10] == ("0.5个工作日", "duration", "市本级企业开办平均办理时间", "2021", "hohhot-2021")


def test_an_edited_cell_lands_in_the_right_yaml_field(data_dir: Path, workbook: Path) -> None:
    reply = "据2021年报道，呼和浩特市本级企业开办平均只要0.5个工作日；2020年9月报道时为1个工作日内。"
    _edit(workbook, "business_registration_time", "reply", reply)
    _edit(workbook, "business_registration_cost", "kind 2", "description")
    before = _snapshot(data_dir)
    result = import_workbook(workbook, data_dir)
    assert [p.name for p in result.written] == ["business_registration.yaml"]
    after = _snapshot(data_dir)
    assert {name for name in after if after[name] != before[name]} == {"business_registration.yaml"}
    data = yaml.safe_load((data_dir / "topics" / "business_registration.yaml").read_text(encoding="utf-8"))
    entries = {e["id"]: e for e in data["entries"]}
    assert entries["business_registration_time"]["reply"] == reply
    assert entries["business_registration_cost"]["facts"][1]["kind"] == "description"
    kb = load_knowledge_base(data_dir)
    assert kb.entries["business_registration_time"].reply == reply
    assert kb.entries["business_registration_cost"].facts[1].kind is AnswerKind.DESCRIPTION
    # The rewritten file differs from the original only in those two lines.
    old = before["business_registration.yaml"][0].decode().splitlines()
    new = after["business_registration.yaml"][0].decode().splitlines()
    assert len(old) == len(new) and sum(a != b for a, b in zip(old, new, strict=True)) == 2


def test_a_bad_cell_is_refused_with_its_row_and_column_and_nothing_is_written(data_dir: Path, workbook: Path) -> None:
    row = _edit(workbook, "business_registration_time", "kind 1", "speed")
    other = _edit(workbook, "ip_ranking", "figure 2", "第30位")
    before = _snapshot(data_dir)
    with pytest.raises(SpreadsheetError) as info:
        import_workbook(workbook, data_dir)
    problems = [str(p) for p in info.value.problems]
    assert problems[0].startswith(f"sheet 'entries', row {row}, column G (kind 1): unknown kind 'speed'")
    assert any(p.startswith(f"sheet 'entries', row {other}, column L (figure 2): ") for p in problems)
    assert all(p.startswith("sheet 'entries', row ") for p in problems)
    assert _snapshot(data_dir) == before


def test_an_emptied_cell_and_an_unknown_topic_are_located(data_dir: Path, workbook: Path) -> None:
    row = _edit(workbook, "hotline_12345", "at 1", None)
    moved = _edit(workbook, "msb_fee", "topic", "no_such_topic")
    with pytest.raises(SpreadsheetError) as info:
        import_workbook(workbook, data_dir)
    assert [str(p) for p in info.value.problems] == [
        f"sheet 'entries', row {moved}, column B (topic): unknown topic 'no_such_topic': "
        "must be a topic id from the 'topics' sheet",
    ]
    _edit(workbook, "msb_fee", "topic", "msb")
    with pytest.raises(SpreadsheetError) as info:
        import_workbook(workbook, data_dir)
    assert [str(p) for p in info.value.problems] == [
        f"sheet 'entries', row {row}, column K (at 1): must be a positive integer: "
        "which occurrence of the figure in its report (missing)"
    ]


def test_a_date_typed_into_a_cell_is_refused_as_not_text(data_dir: Path, workbook: Path) -> None:
    row = _edit(workbook, "business_registration_time", "as_of 1", date(2021, 1, 1))
    with pytest.raises(SpreadsheetError) as info:
        import_workbook(workbook, data_dir)
    assert str(info.value.problems[0]).startswith(f"sheet 'entries', row {row}, column I (as_of 1): must be text")


def test_a_number_typed_into_a_cell_is_read_as_its_digits(data_dir: Path, workbook: Path) -> None:
    _edit(workbook, "hotline_12345", "figure 2", 12345)  # Excel turns a typed 12345 into a number
    assert import_workbook(workbook, data_dir).written == ()


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01 not a workbook \xff" * 50, "企业开办,要几天\n".encode()],
    ids=["empty", "random bytes", "csv"],
)
def test_a_file_that_is_not_a_workbook_gets_a_clear_error(data_dir: Path, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "upload.xlsx"
    path.write_bytes(content)
    with pytest.raises(SpreadsheetError) as info:
        import_workbook(path, data_dir)
    assert str(info.value.problems[0]).startswith("upload.xlsx: not a readable .xlsx workbook")


def test_a_zip_that_is_not_a_workbook_gets_a_clear_error(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "upload.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "你好")
    with pytest.raises(SpreadsheetError) as info:
        import_workbook(path, data_dir)
    assert str(info.value.problems[0]).startswith("upload.xlsx: not a readable .xlsx workbook")


def test_a_workbook_without_the_sheets_is_named(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    book = Workbook()
    book.active.append(["问题", "答案"])  # type: ignore[union-attr]
    book.save(path)
    with pytest.raises(SpreadsheetError) as info:
        import_workbook(path, data_dir)
    assert [str(p) for p in info.value.problems] == [
        "other.xlsx: no sheet named 'entries' (the workbook has 'Sheet')",
        "other.xlsx: no sheet named 'topics' (the workbook has 'Sheet')",
    ]


def test_a_changed_header_is_named(data_dir: Path, workbook: Path) -> None:
    book = load_workbook(workbook)
    book["entries"]["D1"].value = "answer"
    book.save(workbook)
    with pytest.raises(SpreadsheetError) as info:
        import_workbook(workbook, data_dir)
    assert [str(p) for p in info.value.problems] == [
        "sheet 'entries', row 1, column D (reply): the header must start with id, topic, questions, reply, related"
    ]


def test_the_command_line_round_trip(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "curators.xlsx"
    assert main(["kb", "export", "--xlsx", str(path), "--data", str(data_dir)]) == 0
    assert main(["kb", "import", str(path), "--dir", str(data_dir)]) == 0
    assert "0 topic file(s) written, 23 unchanged" in capsys.readouterr().out
    _edit(path, "business_registration_time", "kind 1", "speed")
    assert main(["kb", "import", str(path), "--dir", str(data_dir)]) == 1
    err = capsys.readouterr().err
    assert "column G (kind 1): unknown kind 'speed'" in err and "nothing was written" in err


def test_an_unwritable_export_path_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "export", "--xlsx", str(tmp_path / "no" / "such" / "dir" / "kb.xlsx")]) == 1
    assert "cannot write" in capsys.readouterr().err
    assert main(["kb", "import"]) == 2
    assert "kb import needs the workbook" in capsys.readouterr().err
