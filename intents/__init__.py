"""Match Chinese questions against the knowledge base and decide: answer, suggest or fall back."""

from intents.context import Context
from intents.engine import Answer, Engine, Outcome, Suggestion, Thresholds
from intents.explain import Explanation
from intents.matcher import Candidate

__all__ = ["Answer", "Candidate", "Context", "Engine", "Explanation", "Outcome", "Suggestion", "Thresholds"]
