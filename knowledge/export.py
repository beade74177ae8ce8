"""Plain-data views of entries for JSON output (kb export, the HTTP API)."""

from __future__ import annotations

from typing import Any

from knowledge.model import Entry, Fact, Source


def source_to_dict(source: Source) -> dict[str, Any]:
    """Return a source as JSON-ready data."""
    return {"id": source.id, "title": source.title, "publisher": source.publisher, "date": source.date}


def fact_to_dict(fact: Fact) -> dict[str, Any]:
    """Return a fact as JSON-ready data."""
    return {
        "figure": fact.figure,
        "kind": fact.kind.value,
        "measures": fact.measures,
        "as_of": fact.as_of,
        "source": fact.source.id,
    }


def entry_to_dict(entry: Entry) -> dict[str, Any]:
    """Return an entry with its questions, reply, facts and sources as JSON-ready data."""
    return {
        "id": entry.id,
        "topic": entry.topic_id,
        "questions": list(entry.questions),
        "reply": entry.reply,
        "facts": [fact_to_dict(f) for f in entry.facts],
        "sources": [source_to_dict(s) for s in entry.sources],
        "related": list(entry.related),
    }
