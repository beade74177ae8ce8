"""The local console: the same engine as Telegram and the API, in a terminal."""

from __future__ import annotations

from typing import TextIO

from intents import Answer, Engine

BANNER = (
    "呼和浩特营商环境与政务服务问答（资料来源：2020年、2021年两篇报道）。\n"
    "直接输入问题，例如“企业开办要几天”；出现编号建议时输入编号选择；输入 q 退出。"
)
QUIT = frozenset({"q", "quit", "exit", "退出", "再见"})


def run_console(engine: Engine, stdin: TextIO, stdout: TextIO) -> int:
    """Read questions line by line until end of input or a quit word; return the exit status."""
    interactive = stdin.isatty()
    stdout.write(BANNER + "\n")
    last: Answer | None = None
    while True:
        if interactive:
            stdout.write("\n问> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        text = line.strip()
        if text.lower() in QUIT:
            break
        if last is not None and last.suggestions and text.isdigit() and 1 <= int(text) <= len(last.suggestions):
            answer = engine.answer_entry(last.suggestions[int(text) - 1].intent)
        else:
            answer = engine.ask(text)
        stdout.write(answer.text + "\n")
        stdout.flush()
        last = answer
    return 0
