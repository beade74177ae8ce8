"""Small talk (hello, thanks, who are you, bye…): recognised from knowledge/data/smalltalk.yaml, never searched.

A message is small talk only when nothing is left of it once its small-talk phrases and filler particles are
taken away, so a greeting in front of a question never hides the question.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from knowledge.loader import DATA_DIR as KNOWLEDGE_DIR
from knowledge.loader import YAML_LOADER

SMALLTALK_FILE = KNOWLEDGE_DIR / "smalltalk.yaml"


class SmallTalkError(ValueError):
    """smalltalk.yaml is malformed."""


@dataclass(frozen=True, slots=True)
class SmallTalk:
    """The phrases of every kind, longest first, and each kind's reply."""

    phrases: tuple[tuple[str, str], ...]
    """(phrase, kind), longest phrase first so 谢谢你 wins over 谢谢."""
    replies: dict[str, str]
    fillers: frozenset[str]

    def match(self, normalized: str) -> str | None:
        """Return the kind of the first phrase when the whole message is small talk, else None."""
        text = "".join(normalized.split())
        first: str | None = None
        while text:
            text = text.lstrip("".join(self.fillers))
            if not text:
                break
            for phrase, kind in self.phrases:
                if text.startswith(phrase):
                    first = first or kind
                    text = text[len(phrase) :]
                    break
            else:
                return None
        return first

    def reply(self, kind: str) -> str:
        """Return the reply of a kind."""
        return self.replies[kind]


def _mapping(value: Any, where: str) -> dict[Any, Any]:
    if not isinstance(value, dict) or not value:
        raise SmallTalkError(f"{where} must be a non-empty mapping")
    return value


def load_smalltalk(path: Path = SMALLTALK_FILE) -> SmallTalk:
    """Read and check smalltalk.yaml; SmallTalkError names the file, kind and field."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SmallTalkError(f"{path}: cannot read ({exc})") from exc
    data = _mapping(data, f"{path}")
    fillers = data.get("fillers", "")
    if not isinstance(fillers, str):
        raise SmallTalkError(f"{path}: `fillers` must be a string of characters")
    phrases: dict[str, str] = {}
    replies: dict[str, str] = {}
    for kind, entry in _mapping(data.get("kinds"), f"{path}: `kinds`").items():
        entry = _mapping(entry, f"{path}: kind `{kind}`")
        unknown = sorted(set(entry) - {"phrases", "reply"})
        if unknown:
            raise SmallTalkError(f"{path}: kind `{kind}`: unknown field(s) {', '.join(map(str, unknown))}")
        reply = entry.get("reply")
        if not isinstance(reply, str) or not reply.strip():
            raise SmallTalkError(f"{path}: kind `{kind}`: `reply` must be a non-empty string")
        listed = entry.get("phrases")
        if not isinstance(listed, list) or not listed:
            raise SmallTalkError(f"{path}: kind `{kind}`: `phrases` must be a non-empty list")
        for phrase in listed:
            text = "".join(str(phrase).casefold().split())
            if not text:
                raise SmallTalkError(f"{path}: kind `{kind}`: `phrases` has an empty phrase")
            if text in phrases and phrases[text] != kind:
                raise SmallTalkError(f"{path}: kind `{kind}`: phrase {text!r} is also in kind `{phrases[text]}`")
            phrases[text] = str(kind)
        replies[str(kind)] = reply.strip()
    ordered = tuple(sorted(phrases.items(), key=lambda item: (-len(item[0]), item[0])))
    return SmallTalk(phrases=ordered, replies=replies, fillers=frozenset(fillers))
