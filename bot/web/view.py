"""The web page's JSON view of an answer: the reply cut into plain and bold (figure) runs, source, chips."""

from __future__ import annotations

import re
from typing import Any

from bot.service import Reply
from intents.engine import SUGGEST_FOOTER, SUGGEST_HEADER
from knowledge import KnowledgeBase

MAX_RELATED = 3


def emphasis(text: str, figures: tuple[str, ...]) -> list[dict[str, Any]]:
    """Cut text into runs, marking every verbatim occurrence of a figure as bold (longest figure first)."""
    wanted = sorted({f for f in figures if f}, key=len, reverse=True)
    if not wanted:
        return [{"text": text, "bold": False}] if text else []
    runs: list[dict[str, Any]] = []
    pattern = re.compile("|".join(re.escape(f) for f in wanted))
    last = 0
    for match in pattern.finditer(text):
        if match.start() > last:
            runs.append({"text": text[last : match.start()], "bold": False})
        runs.append({"text": match.group(), "bold": True})
        last = match.end()
    if last < len(text):
        runs.append({"text": text[last:], "bold": False})
    return runs


def reply_view(reply: Reply, kb: KnowledgeBase) -> dict[str, Any]:
    """Return what the page shows for a reply; the page inserts every string as text, never as HTML."""
    answer = reply.answer
    if answer.suggestions:
        text, footer = SUGGEST_HEADER, SUGGEST_FOOTER
    else:
        text, footer = answer.reply, ""
    related = []
    if answer.entry is not None:
        related = [
            {"intent": rid, "question": kb.entries[rid].questions[0]}
            for rid in answer.entry.related[:MAX_RELATED]
            if rid in kb.entries
        ]
    return {
        "id": reply.id,
        "question": answer.question,
        "outcome": str(answer.outcome),
        "reply": emphasis(text, answer.figures),
        "footer": footer,
        "source": answer.source_line,
        "suggestions": [{"intent": s.intent, "question": s.question} for s in answer.suggestions],
        "related": related,
    }
