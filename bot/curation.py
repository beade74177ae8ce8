"""Suggested paraphrases (active learning) from the records, written as a review file a person accepts.

- A question whose asker then picked a suggestion ("您是想问…" → 2) becomes "add this question to that entry".
- A question that fell back but scored close to one entry, well ahead of the next, becomes the same proposal,
  marked as weaker evidence.
- A group of unanswered questions with no close entry becomes "a new entry may be needed".
Nothing changes the knowledge base by itself: `kb accept FILE` applies the proposals marked `accept: true`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import yaml

from bot.store import QuestionRecord
from intents.analyzer import Analyzer
from intents.grouping import group_questions

CLOSE_SCORE = 45.0
"""A fallen-back question whose best entry scored this much…"""
CLEAR_LEAD = 8.0
"""…and led the next by this much is probably a paraphrase of that entry."""
FAR_SCORE = 35.0
"""Unanswered questions whose best entry scored less than this have no close entry."""
HEADER = """\
# Proposals from what people asked (python -m bot kb suggest). Nothing is applied by itself: set
# `accept: true` on the ones to apply, then `python -m bot kb accept THIS_FILE` and `python -m bot kb reload`.
"""


@dataclass(frozen=True, slots=True)
class Proposal:
    """One proposal for a person to accept or leave."""

    kind: str
    """add_question or new_entry."""
    questions: tuple[str, ...]
    entry: str | None
    evidence: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        """Return the proposal as the review file holds it."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.entry is not None:
            out["entry"] = self.entry
        out |= {"questions": list(self.questions), "count": self.count, "evidence": self.evidence, "accept": False}
        return out


def propose(records: list[QuestionRecord], analyzer: Analyzer, known: set[str]) -> list[Proposal]:
    """Return the proposals the records support, strongest first."""
    by_chat: dict[str, list[QuestionRecord]] = defaultdict(list)
    for record in sorted(records, key=lambda r: r.asked_at):
        if record.conversation is not None:
            by_chat[record.conversation].append(record)
    picked: Counter[tuple[str, str]] = Counter()
    for chat in by_chat.values():
        for offered, chosen in pairwise(chat):
            if offered.outcome == "suggest" and offered.via == "ask" and chosen.via == "pick" and chosen.intent:
                picked[(chosen.intent, offered.question)] += 1
    close: Counter[tuple[str, str]] = Counter()
    far: list[str] = []
    for record in records:
        if record.via != "ask" or record.outcome not in ("fallback", "partial"):
            continue
        scores = record.candidates
        best = scores[0].score if scores else 0.0
        runner_up = scores[1].score if len(scores) > 1 else 0.0
        if best >= CLOSE_SCORE and best - runner_up >= CLEAR_LEAD:
            close[(scores[0].intent, record.question)] += 1
        elif best < FAR_SCORE:
            far.append(record.question)
    proposals = [
        Proposal("add_question", (q,), entry, f"picked this entry from suggestions {n} time(s)", n)
        for (entry, q), n in picked.most_common()
        if entry in known
    ]
    proposals += [
        Proposal("add_question", (q,), entry, f"fell back {n} time(s) with this entry close (weaker evidence)", n)
        for (entry, q), n in close.most_common()
        if entry in known and (entry, q) not in picked
    ]
    proposals += [
        Proposal("new_entry", (g.question, *g.examples), None, "asked and unanswered, no entry close", g.count)
        for g in group_questions(analyzer, far)
    ]
    return proposals


def review_file(proposals: list[Proposal]) -> str:
    """Return the review file's text."""
    body = yaml.safe_dump({"proposals": [p.to_dict() for p in proposals]}, allow_unicode=True, sort_keys=False)
    return HEADER + body


def accepted(text: str) -> dict[str, list[str]]:
    """Return entry id → questions of the accepted add_question proposals of a review file; ValueError when the
    file is not one."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"not a proposals file: {exc}") from None
    items = data.get("proposals") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError("not a proposals file: no `proposals:` list")
    out: dict[str, list[str]] = defaultdict(list)
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict) or item.get("accept") is not True or item.get("kind") != "add_question":
            continue
        entry, questions = item.get("entry"), item.get("questions")
        if (
            not isinstance(entry, str)
            or not isinstance(questions, list)
            or not all(isinstance(q, str) for q in questions)
        ):
            raise ValueError(f"proposal {number}: needs an entry id and a list of questions")
        out[entry].extend(questions)
    return dict(out)
