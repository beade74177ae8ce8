"""The knowledge base's concepts: sources, facts, entries, topics."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AnswerKind(StrEnum):
    """What kind of answer a fact gives, so a question asking for one kind can be told when an entry lacks it."""

    DURATION = "duration"  # how long something takes: 0.5个工作日, 20分钟内
    COUNT = "count"  # how many: 202个, 88家, 同比增加21天
    AMOUNT = "amount"  # a sum of money or a physical quantity, including "free": 14.33亿元, 225万亩, 零费用
    PERCENTAGE = "percentage"  # a share or a change in points: 44%, 10.8个百分点
    DATE = "date"  # when: 2020年8月29日, 4月26日, 2021年6月底
    RANK = "rank"  # a position in a ranking: 第31位, 正数第二名
    NAME = "name"  # what something is called: a platform, document, programme, title or organisation
    LIST = "list"  # several named items the report enumerates: A、B、C
    PLACE = "place"  # where: 大门口, 和林格尔新区, 企业开办专区
    PROCEDURE = "procedure"  # how something is done or handled: 一窗受理, 告知承诺制, 线上支付
    CONTACT = "contact"  # a phone number, website address or postal address: 12345
    YES_NO = "yes_no"  # a status that answers a yes/no question: 国控断面水质全部达标
    DESCRIPTION = "description"  # anything else stated in words: a goal, an effect, a state of affairs


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
    """One figure quoted verbatim from a report, with what it measures and the report's words for it.

    `at` locates it without copying the report's text: the figure is the at-th occurrence (1-based) of that exact
    string in the cited report (line wraps joined); knowledge.reports derives the sentence and the words dating it
    from there, where the reports are available. `as_of` is the date the figure describes.
    """

    figure: str
    kind: AnswerKind
    measures: str
    source: Source
    at: int
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
