"""The command line as a user runs it: whole processes, real knowledge base."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli
from knowledge import DATA_DIR

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` and return the finished process."""
    full_env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=full_env,
    )


def test_ask_prints_the_reply_with_its_source() -> None:
    result = run("ask", "企业开办要几天")
    assert result.returncode == 0, result.stderr
    assert "0.5个工作日" in result.stdout and "来源：" in result.stdout


def test_ask_json_prints_one_object() -> None:
    result = run("ask", "--json", "好差评满意率多少")
    data = json.loads(result.stdout)
    assert data["fallback"] is False and "99.9%" in data["figures"] and data["sources"]


def test_ask_json_reads_questions_from_stdin_in_order() -> None:
    result = run("ask", "--json", "-", stdin="企业开办要几天\n怎么办理护照\n\n")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["question"] for d in lines] == ["企业开办要几天", "怎么办理护照", ""]
    assert [d["outcome"] for d in lines] == ["answer", "fallback", "empty"]
    assert [d["fallback"] for d in lines] == [False, True, True]  # true for every outcome but an answer
    assert "请输入" in lines[2]["answer"]


def test_eval_prints_the_three_rates(tmp_path: Path) -> None:
    questions = tmp_path / "q.tsv"
    questions.write_text("# comment\n企业开办要几天\t0.5个工作日\n今天吃什么\tOOS\n", encoding="utf-8")
    result = run("eval", str(questions))
    assert result.returncode == 0
    assert "in-scope accuracy: 100.0%" in result.stdout
    assert "out-of-scope fallback: 100.0%" in result.stdout
    assert "confidently wrong: 0.0%" in result.stdout


def test_eval_rejects_a_malformed_file_with_its_line(tmp_path: Path) -> None:
    questions = tmp_path / "q.tsv"
    questions.write_text("企业开办要几天 no tab here\n", encoding="utf-8")
    result = run("eval", str(questions))
    assert result.returncode == 2 and "q.tsv:1" in result.stderr


def test_kb_check_passes_on_the_packaged_base() -> None:
    result = run("kb", "check")
    assert result.returncode == 0 and result.stdout.startswith("ok:")


def test_kb_check_lists_every_error_and_fails(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    (data / "topics" / "zz_broken.yaml").write_text("topic: [unclosed\n", encoding="utf-8")
    first = sorted((data / "topics").glob("*.yaml"))[0]
    first.write_text(
        first.read_text(encoding="utf-8").replace("source: hohhot-2021", "source: nowhere", 1), encoding="utf-8"
    )
    result = run("kb", "check", "--data", str(data))
    assert result.returncode == 1
    assert "zz_broken.yaml: invalid YAML" in result.stderr
    assert f"{first.name}: entry" in result.stderr and "unknown source id 'nowhere'" in result.stderr


def test_kb_export_prints_every_entry_as_json_lines() -> None:
    result = run("kb", "export", "--json")
    entries = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(entries) >= 60
    assert all(e["questions"] and e["facts"] and e["sources"] for e in entries)


def test_bare_command_without_token_opens_the_console() -> None:
    result = run(stdin="企业开办要几天\n1\nq\n")
    assert result.returncode == 0
    assert "0.5个工作日" in result.stdout and "直接输入问题" in result.stdout


def test_chat_lets_the_user_pick_a_suggestion_by_number() -> None:
    result = run("chat", stdin="排名\n1\n")
    assert result.returncode == 0
    assert "来源：" in result.stdout


# --- #12 item 8: the command line and configuration ------------------------------------------------


def _run(args: list[str], tmp_path: Path, stdin: bytes = b"", **env: str) -> subprocess.CompletedProcess[bytes]:
    environ = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "KNOWLEDGE_DIR")}
    environ |= {"DATA_DIR": str(tmp_path / "data"), **env}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, env=environ, cwd=tmp_path, timeout=60
    )


def test_ask_json_batch_survives_undecodable_bytes(tmp_path: Path) -> None:
    done = _run(
        ["ask", "--json", "-"], tmp_path, "企业开办要几天\n".encode() + b"\xff\xfe\x80\n" + "今天天气怎么样\n".encode()
    )
    assert done.returncode == 0
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [line["outcome"] for line in lines][0::2] == ["answer", "fallback"] and len(lines) == 3


@pytest.mark.parametrize("command", [["ask", "企业开办要几天"], ["ask", "--json", "企业开办要几天"], ["chat"]])
def test_an_invalid_knowledge_base_is_a_clean_error_list(tmp_path: Path, command: list[str]) -> None:
    broken = tmp_path / "kb"
    shutil.copytree(DATA_DIR, broken)
    (broken / "topics" / "hotline.yaml").write_text("topic: [unclosed", encoding="utf-8")
    done = _run(command, tmp_path, KNOWLEDGE_DIR=str(broken))
    err = done.stderr.decode()
    assert done.returncode == 1 and "hotline.yaml" in err and "Traceback" not in err


def test_a_dotenv_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"LOG_LEVEL=info\nHOST=\xff\xfe\n")
    done = _run(["config"], tmp_path)
    err = done.stderr.decode()
    assert done.returncode == 2 and ".env" in err and "UTF-8" in err and "Traceback" not in err


def test_a_token_only_in_dotenv_makes_bare_python_m_bot_serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=123456:ABCdefGHIjklMNOpqr\n", encoding="utf-8")
    chosen: list[str] = []
    monkeypatch.setattr(cli, "cmd_serve", lambda args: chosen.append("serve") or 0)
    monkeypatch.setattr(cli, "cmd_chat", lambda args: chosen.append("chat") or 0)
    assert cli.main([]) == 0
    (tmp_path / ".env").unlink()
    assert cli.main([]) == 0
    assert chosen == ["serve", "chat"]
