"""Small validated edits of the topic files: add example questions to entries (accepted curator proposals)."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from knowledge.loader import DATA_DIR, KnowledgeBaseError, Problem, check_knowledge_base
from knowledge.spreadsheet import _topic_files, _write_all, dump_topic, topic_data


def add_questions(additions: Mapping[str, Sequence[str]], data_dir: Path = DATA_DIR) -> tuple[Path, ...]:
    """Add example questions to entries (entry id → questions) and rewrite only the topic files that change.

    The result is validated as `kb check` does before anything is written; KnowledgeBaseError lists every
    problem (an unknown entry id among them) and leaves every file as it was.
    """
    kb, problems = check_knowledge_base(data_dir)
    if kb is None:
        raise KnowledgeBaseError(problems)
    unknown = [Problem("(proposals)", e, "entry", "no such entry") for e in additions if e not in kb.entries]
    if unknown:
        raise KnowledgeBaseError(unknown)
    files = _topic_files(data_dir)
    texts: dict[str, str] = {}
    for topic in kb.topics:
        entries = list(kb.topic_entries(topic.id))
        changed = False
        for i, entry in enumerate(entries):
            new = [q for q in dict.fromkeys(additions.get(entry.id, ())) if q.strip() and q not in entry.questions]
            if new:
                entries[i] = dataclasses.replace(entry, questions=(*entry.questions, *new))
                changed = True
        if changed:
            texts[files.get(topic.id, f"{topic.id}.yaml")] = dump_topic(topic_data(topic, entries))
    if not texts:
        return ()
    topics = data_dir / "topics"
    with tempfile.TemporaryDirectory() as staging:  # validate the result before touching the real files
        trial = Path(staging) / "data"
        shutil.copytree(data_dir, trial)
        for name, text in texts.items():
            (trial / "topics" / name).write_text(text, encoding="utf-8")
        checked, problems = check_knowledge_base(trial)
        if checked is None:
            raise KnowledgeBaseError(problems)
    return _write_all(topics, texts)
