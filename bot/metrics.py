"""Prometheus metrics of one server: questions by channel and outcome, latency, HTTP and escalation counts."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, disable_created_metrics
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from bot.service import AskEvent
from intents import Outcome

CHANNELS = ("api", "telegram", "cli")
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
ESCALATION_RESULTS = ("delivered", "retried", "failed")

# The `*_created` timestamp series double the output and no dashboard of ours reads them (process-wide switch).
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in prometheus_client


class Metrics:
    """Every metric the server exports, in a registry of its own (one per app, so tests never share counts)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.questions = Counter(
            "hohhot_questions", "Questions asked, by channel.", ["channel"], registry=self.registry
        )
        self.outcomes = Counter(
            "hohhot_answers",
            "Replies given, by channel and outcome (answer, suggest, fallback, empty).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "hohhot_answer_seconds",
            "Time the engine took to answer one question.",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.http_responses = Counter(
            "hohhot_http_responses",
            "HTTP responses, by route template and status code.",
            ["route", "status"],
            registry=self.registry,
        )
        self.escalations = Counter(
            "hohhot_escalations",
            "Escalation webhook events: delivered, retried, failed (parked as dead).",
            ["result"],
            registry=self.registry,
        )
        self.entries = Gauge(
            "hohhot_knowledge_entries", "Entries in the loaded knowledge base.", registry=self.registry
        )
        self.knowledge = Info(
            "hohhot_knowledge_base", "The knowledge base answering now: its content hash.", registry=self.registry
        )
        self.store_failures = Counter(
            "hohhot_store_failures",
            "Writes to the store that failed (answers went on unrecorded).",
            registry=self.registry,
        )
        for channel in CHANNELS:  # export zeros from the start, so rates work on a fresh server
            self.questions.labels(channel)
            self.latency.labels(channel)
            for outcome in Outcome:
                self.outcomes.labels(channel, outcome.value)
        for result in ESCALATION_RESULTS:
            self.escalations.labels(result)

    def observe(self, event: AskEvent) -> None:
        """Count one answered question (an Assistant observer)."""
        self.questions.labels(event.channel).inc()
        self.outcomes.labels(event.channel, event.answer.outcome.value).inc()
        self.latency.labels(event.channel).observe(event.seconds)

    def knowledge_base(self, version: str, entries: int) -> None:
        """Show which knowledge base answers (at start and after each reload)."""
        self.knowledge.info({"version": version})
        self.entries.set(entries)

    def escalation(self, result: str) -> None:
        """Count one escalation event (see ESCALATION_RESULTS)."""
        self.escalations.labels(result).inc()

    def render(self) -> tuple[bytes, str]:
        """Return the exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
