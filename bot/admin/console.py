"""What the admin console does, on the assistant façade: the dashboard, the review queue, the test view, the
knowledge base's version, reload and export. routes.py only carries these over HTTP."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.reload import Reloader
from bot.service import Assistant
from bot.store import ReviewDecision, review_key, utcnow
from knowledge.editing import add_questions
from knowledge.loader import DATA_DIR, KnowledgeBaseError
from knowledge.spreadsheet import export_workbook

logger = logging.getLogger(__name__)

TOP_GROUPS = 10
REVIEW_DAYS = 90
"""The review queue reads the records of this many days."""
MAX_REVIEW_ITEMS = 50
PROPOSAL, GROUP = "proposal", "group"
ACCEPTED, DISMISSED = "accepted", "dismissed"


@dataclass(frozen=True, slots=True)
class AcceptResult:
    """What accepting a review item did: the version now serving, or why nothing changed."""

    ok: bool
    version: str
    entries: int
    errors: tuple[str, ...] = ()
    written: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape."""
        return {
            "ok": self.ok,
            "version": self.version,
            "entries": self.entries,
            "errors": list(self.errors),
            "written": list(self.written),
        }


class Console:
    """The admin console's operations on one assistant, its reloader and its settings."""

    def __init__(self, service: Assistant, settings: Settings, reloader: Reloader) -> None:
        self.service = service
        self.settings = settings
        self.reloader = reloader
        self._editing = asyncio.Lock()  # one knowledge-base edit at a time in this process

    @property
    def knowledge_dir(self) -> Path:
        """Return the folder the knowledge base is loaded from, and that accepted proposals are written to."""
        return self.settings.knowledge_dir or DATA_DIR

    def status(self) -> dict[str, Any]:
        """Return the knowledge base now serving: version, entries, when it was loaded."""
        return {**self.service.knowledge_base_status(), "store": self.service.store is not None}

    async def dashboard(self, days: int) -> dict[str, Any]:
        """Return the dashboard's figures of the last days (from the store, through the façade's report)."""
        report = await self.service.report(days)
        answered = report.outcomes.get("answer", 0)
        return {
            "days": days,
            "since": report.since.isoformat(timespec="seconds"),
            "questions": report.questions,
            "answered": answered,
            "outcomes": [
                {"outcome": o, "count": n, "share": round(report.rate(o), 4)}
                for o, n in sorted(report.outcomes.items(), key=lambda item: (-item[1], item[0]))
            ],
            "feedback": report.feedback,
            "picks": report.picks,
            "hotline": report.hotline,
            "top_intents": [
                {"intent": i, "question": self._first_question(i), "count": n} for i, n in report.top_intents
            ],
            "unanswered": [
                {"question": g.question, "count": g.count, "examples": list(g.examples)}
                for g in report.unanswered[:TOP_GROUPS]
            ],
            "per_day": [{"date": d, "count": n} for d, n in report.per_day],
            "kb": self.status(),
        }

    def _first_question(self, entry_id: str) -> str:
        entry = self.service.entry(entry_id)
        return entry.questions[0] if entry is not None and entry.questions else entry_id

    def entries(self) -> list[dict[str, Any]]:
        """Return every topic with its entries (id, first question): what an accepted question may be added to."""
        return [
            {
                "id": topic.id,
                "title": topic.title,
                "entries": [{"id": e.id, "question": e.questions[0]} for e in self.service.topic_entries(topic.id)],
            }
            for topic in self.service.topics()
        ]

    async def review(self) -> list[dict[str, Any]]:
        """Return the open review items: `kb suggest`'s add_question proposals, then the unanswered groups;
        items already accepted or dismissed are left out, and so is a question already accepted or already an
        example of an entry (`kb accept` at the command line)."""
        decisions = await self.service.review_decisions()
        decided = {d.key for d in decisions}
        settled = {d.question for d in decisions if d.decision == ACCEPTED}
        settled |= {q for e in self.service.catalog.entries.values() for q in e.questions}
        items: list[dict[str, Any]] = []
        for proposal in await self.service.proposals(REVIEW_DAYS):
            if proposal.kind != "add_question" or proposal.entry is None:
                continue  # "new entry" proposals are unanswered groups too: listed below
            question = proposal.questions[0]
            key = review_key(PROPOSAL, proposal.entry, question)
            if key not in decided and question not in settled:
                items.append(
                    {
                        "key": key,
                        "kind": PROPOSAL,
                        "question": question,
                        "questions": list(proposal.questions),
                        "entry": proposal.entry,
                        "entry_question": self._first_question(proposal.entry),
                        "count": proposal.count,
                        "evidence": proposal.evidence,
                    }
                )
        report = await self.service.report(REVIEW_DAYS)
        for group in report.unanswered:
            key = review_key(GROUP, None, group.question)
            if key not in decided and group.question not in settled:
                items.append(
                    {
                        "key": key,
                        "kind": GROUP,
                        "question": group.question,
                        "questions": [group.question, *group.examples],
                        "entry": None,
                        "entry_question": None,
                        "count": group.count,
                        "evidence": "",
                    }
                )
        return items[:MAX_REVIEW_ITEMS]

    async def accept(self, kind: str, key_entry: str | None, entry_id: str, questions: Sequence[str]) -> AcceptResult:
        """Add questions as examples of an entry, validated, then reload; remember the item as accepted.

        Nothing is written when the result would not validate (every error is returned); when the reload
        refuses the new base, the old one keeps serving and the errors are returned.
        """
        service = self.service
        async with self._editing:
            try:
                written = await asyncio.to_thread(add_questions, {entry_id: list(questions)}, self.knowledge_dir)
            except KnowledgeBaseError as exc:
                logger.warning("admin: accepting for %s refused: %d validation error(s)", entry_id, len(exc.problems))
                return AcceptResult(
                    False, service.kb_version, service.entry_count, tuple(str(p) for p in exc.problems)
                )
            result = await self.reloader.reload()
        names = tuple(p.name for p in written)
        if not result.ok:
            return AcceptResult(False, result.version, result.entries, tuple(result.errors.splitlines()), names)
        question = questions[0]
        await self.decide(kind, key_entry, question, ACCEPTED)
        logger.info("admin: added %d question(s) to %s; now %s", len(questions), entry_id, result.version)
        return AcceptResult(True, result.version, result.entries, (), names)

    async def decide(self, kind: str, entry: str | None, question: str, decision: str) -> bool:
        """Remember a decision on a review item (in the store, so every replica and restart knows it)."""
        return await self.service.decide(ReviewDecision(kind, entry, question, decision, utcnow()))

    def trial(self, question: str) -> dict[str, Any]:
        """Return the reply a user would get, the top candidates and why (not recorded)."""
        answer, explanation = self.service.trial(question)
        source = answer.source_line
        return {
            "outcome": str(answer.outcome),
            "reply": answer.text.removesuffix(f"\n（{source}）") if source else answer.text,
            "figures": list(answer.figures),
            "source": source,
            "intent": answer.intent,
            "suggestions": [{"intent": s.intent, "question": s.question} for s in answer.suggestions],
            "explanation": explanation.to_dict(),
        }

    async def reload(self) -> dict[str, Any]:
        """Reload the knowledge base from its folder; the old one keeps serving when the new one is invalid."""
        result = await self.reloader.reload()
        return {
            "ok": result.ok,
            "version": result.version,
            "entries": result.entries,
            "errors": result.errors.splitlines(),
        }

    async def workbook(self) -> bytes:
        """Return the knowledge base now serving as the curators' .xlsx workbook."""

        def build() -> bytes:
            with tempfile.TemporaryDirectory(prefix="admin-export-") as folder:
                path = Path(folder) / "knowledge.xlsx"
                export_workbook(self.service.catalog, path, self.knowledge_dir)
                return path.read_bytes()

        return await asyncio.to_thread(build)
