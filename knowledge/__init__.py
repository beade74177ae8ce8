"""The hand-curated knowledge base drawn from the two reports, and its validating loader."""

from knowledge.loader import DATA_DIR, KnowledgeBaseError, Problem, check_knowledge_base, load_knowledge_base
from knowledge.model import AnswerKind, Entry, Fact, Fallback, KnowledgeBase, Source, Topic

__all__ = [
    "DATA_DIR",
    "AnswerKind",
    "Entry",
    "Fact",
    "Fallback",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "Problem",
    "Source",
    "Topic",
    "check_knowledge_base",
    "load_knowledge_base",
]
