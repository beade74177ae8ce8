"""The knowledge base's concepts: sources, facts, entries, topics."""

from __future__ import annotations

from dataclasses import dataclass


def distinct_sources(facts: tuple[Fact, ...]) -> tuple[Source, ...]:
    """Return the distinct sources that facts cite, newest first."""
    seen: dict[str, Source] = {}
    for fact in facts:
        seen.setdefault(fact.source.id, fact.source)
    return tuple(sorted(seen.values(), key=lambda s: s.date, reverse=True))


@dataclass(frozen=True, slots=True)
class Source:
    """One report the knowledge base cites, described only as far as its text states."""

    id: str
    file: str
    title: str | None
    publisher: str | None
    date: str
    label: str


@dataclass(frozen=True, slots=True)
class Fact:
    """One figure quoted verbatim from a report, with what it measures."""

    figure: str
    measures: str
    source: Source
    as_of: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One answerable intent: example questions, our reply and the facts it cites."""

    id: str
    topic_id: str
    questions: tuple[str, ...]
    reply: str
    facts: tuple[Fact, ...]
    related: tuple[str, ...] = ()

    @property
    def sources(self) -> tuple[Source, ...]:
        """Return the distinct sources the facts cite, newest first."""
        return distinct_sources(self.facts)

    @property
    def figures(self) -> tuple[str, ...]:
        """Return the cited figures in the order the entry lists them."""
        return tuple(dict.fromkeys(f.figure for f in self.facts))


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic area: one YAML file of entries."""

    id: str
    title: str
    entry_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Fallback:
    """What the assistant says when the knowledge base has no answer."""

    reply: str
    facts: tuple[Fact, ...]

    @property
    def sources(self) -> tuple[Source, ...]:
        """Return the distinct sources the fallback cites, newest first."""
        seen: dict[str, Source] = {}
        for fact in self.facts:
            seen.setdefault(fact.source.id, fact.source)
        return tuple(sorted(seen.values(), key=lambda s: s.date, reverse=True))


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """Every topic, entry and source, validated."""

    sources: dict[str, Source]
    topics: tuple[Topic, ...]
    entries: dict[str, Entry]
    fallback: Fallback

    def topic_entries(self, topic_id: str) -> tuple[Entry, ...]:
        """Return a topic's entries in file order."""
        for topic in self.topics:
            if topic.id == topic_id:
                return tuple(self.entries[i] for i in topic.entry_ids)
        raise KeyError(topic_id)
