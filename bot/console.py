"""The local console: the same assistant as Telegram and the API, in a terminal."""

from __future__ import annotations

import uuid
from typing import TextIO

from bot.service import Asker, Assistant

BANNER = (
    "呼和浩特营商环境与政务服务问答（资料来源：2020年、2021年两篇报道）。\n"
    "直接输入问题，例如“企业开办要几天”；出现编号建议时输入编号选择；输入 q 退出。"
)
QUIT = frozenset({"q", "quit", "exit", "退出", "再见"})


async def run_console(assistant: Assistant, stdin: TextIO, stdout: TextIO) -> int:
    """Read questions line by line until end of input or a quit word; return the exit status."""
    # One run is one conversation: a bare number picks a choice of the last reply, when it offered one.
    asker = Asker("console", chat_type="private", chat_id=uuid.uuid4().hex)
    interactive = stdin.isatty()
    stdout.write(BANNER + "\n")
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
        reply = await assistant.ask(text, asker)
        stdout.write(reply.text + "\n")
        stdout.flush()
    return 0
