"""What the assistant was asked and how it did, from the store: the curators' report."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.store import QuestionRecord, utcnow
from intents.analyzer import Analyzer
from intents.grouping import QuestionGroup, group_questions

UNANSWERED = frozenset({"fallback", "partial"})
"""Outcomes that leave a question unanswered (a suggestion at least offers entries)."""
TOP = 10


@dataclass(frozen=True, slots=True)
class Report:
    """The figures of a period."""

    since: datetime
    questions: int
    outcomes: dict[str, int]
    picks: int
    """Suggestions or related questions chosen, and numbered choices."""
    hotline: int
    """Presses of "都不是 · 打12345" and /hotline."""
    feedback: dict[str, int]
    top_intents: list[tuple[str, int]]
    never_hit: list[str]
    unanswered: list[QuestionGroup]
    per_day: list[tuple[str, int]] = field(default_factory=list)
    """Questions asked each UTC day of the period (YYYY-MM-DD, oldest first; days without any included)."""

    def rate(self, outcome: str) -> float:
        """Return the share of questions with an outcome."""
        return self.outcomes.get(outcome, 0) / self.questions if self.questions else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the `report --json` object."""
        return {
            "since": self.since.isoformat(timespec="seconds"),
            "questions": self.questions,
            "outcomes": self.outcomes,
            "rates": {o: round(self.rate(o), 4) for o in self.outcomes},
            "picks": self.picks,
            "hotline": self.hotline,
            "feedback": self.feedback,
            "top_intents": [{"intent": i, "count": n} for i, n in self.top_intents],
            "never_hit": self.never_hit,
            "unanswered": [
                {"question": g.question, "count": g.count, "examples": list(g.examples)} for g in self.unanswered
            ],
            "per_day": [{"date": day, "count": n} for day, n in self.per_day],
        }

    def text(self) -> str:
        """Return the report for a terminal (or an admin's chat)."""
        lines = [f"自 {self.since:%Y-%m-%d %H:%M} UTC 起：{self.questions} 个问题"]
        for outcome, count in sorted(self.outcomes.items(), key=lambda item: -item[1]):
            lines.append(f"  {outcome}: {count} ({self.rate(outcome):.1%})")
        lines.append(
            f"选择建议 {self.picks} 次，转12345 {self.hotline} 次；👍 {self.feedback['up']} 👎 {self.feedback['down']}"
        )
        if self.top_intents:
            lines.append("最常问：" + "，".join(f"{i} ×{n}" for i, n in self.top_intents))
        lines.append(f"从未命中的条目：{len(self.never_hit)} 个")
        if self.unanswered:
            lines.append("没能回答的问题（按相似归组，多的在前）：")
            for group in self.unanswered[:TOP]:
                more = f"（又如：{'；'.join(group.examples)}）" if group.examples else ""
                lines.append(f"  ×{group.count} {group.question}{more}")
        return "\n".join(lines)


def build_report(
    records: list[QuestionRecord],
    votes: list[tuple[str, str, str | None]],
    entry_ids: list[str],
    analyzer: Analyzer,
    since: datetime,
) -> Report:
    """Return the report of the records asked since (and the votes cast since)."""
    asked = [r for r in records if r.via == "ask"]
    outcomes = dict(Counter(r.outcome for r in asked))
    answered = Counter(r.intent for r in records if r.intent and r.outcome == "answer" and r.via != "inline")
    vote_counts = Counter(vote for _, vote, _ in votes)
    return Report(
        since=since,
        questions=len(asked),
        outcomes=outcomes,
        picks=sum(1 for r in records if r.via in ("pick", "related")),
        hotline=sum(1 for r in records if r.via == "hotline"),
        feedback={"up": vote_counts.get("up", 0), "down": vote_counts.get("down", 0)},
        top_intents=sorted(answered.items(), key=lambda item: (-item[1], item[0]))[:TOP],
        never_hit=sorted(set(entry_ids) - set(answered)),
        unanswered=group_questions(analyzer, [r.question for r in asked if r.outcome in UNANSWERED]),
        per_day=per_day(asked, since, utcnow()),
    )


def per_day(records: list[QuestionRecord], since: datetime, until: datetime | None = None) -> list[tuple[str, int]]:
    """Return how many records fall on each UTC day from since's day to until's (or the last record's, if later)."""
    counts = Counter(r.asked_at.date() for r in records)
    first = since.date()
    last = max([first, *counts, *([until.date()] if until is not None else [])])
    days = (last - first).days + 1
    return [((first + timedelta(days=n)).isoformat(), counts.get(first + timedelta(days=n), 0)) for n in range(days)]


def unanswered_csv(report: Report) -> str:
    """Return the unanswered groups as CSV (UTF-8 with BOM so Excel/WPS read the Chinese right)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["count", "question", "examples"])
    for group in report.unanswered:
        writer.writerow([group.count, group.question, " | ".join(group.examples)])
    return "\ufeff" + out.getvalue()
