"""The one function every adapter calls: a question in, a cited answer (or an honest fallback) out."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from intents.analyzer import Analysis, Analyzer
from intents.asked import load_asked_kinds
from intents.cache import Cache, default_folder
from intents.context import Context, asks_for_more, is_follow_up
from intents.explain import CandidateExplanation, Explanation
from intents.lexicon import INTERROGATIVES, Lexicon
from intents.matcher import Candidate, IntentDoc, Matcher
from intents.normalize import clean_input, normalize
from intents.scoring import Scoring, contributions, default_scoring, score
from intents.smalltalk import load_smalltalk
from knowledge import Entry, Fact, KnowledgeBase, Source, load_knowledge_base
from knowledge.export import source_to_dict
from knowledge.model import distinct_sources

logger = logging.getLogger(__name__)

EMPTY_PROMPT = "请输入您想咨询的问题，例如：“企业开办要几天？”“办不成事去哪反映？”"
SEVERAL_MISSING = "“{question}”：报道中没有找到确切答案，建议拨打12345热线咨询。"
"""The line for one piece of a several-question message that the reports do not answer."""
SEVERAL_SUGGEST = "“{question}”：您是想问{choices}？可以单独发送其中一个问题。"
"""The line for one piece the engine is unsure of: its suggestions, named in the text (one message has no room
for several rows of buttons)."""
QUESTION_BREAK = re.compile(r"[？?！!；;。\n]+")
"""Where one question ends and the next begins inside a message."""
MIN_PIECE_CHARS = 2
CLAUSE_BREAK = re.compile(r"[，,、：:]+")
"""Where one clause of a question ends and the next begins ("我是做餐饮的，想开个店，要几天")."""
MAX_CLAUSE_TRIES = 3
"""How many shorter tails of an unanswered question are tried (its last 2, 3 and 4 clauses)."""
SUGGEST_HEADER = "我不太确定您想问的是哪一项，您是想问："
SUGGEST_FOOTER = "如果都不是，可以拨打12345热线咨询。"
SCOPE_WORDS = frozenset({"年", "年度", "全年", "今年", "去年"})
"""Words that only qualify a year in a follow-up (2020年呢): they name no topic of their own."""
PARTIAL_TEMPLATE = "报道没有给出{missing}。报道中相关的内容是：{reply}\n如需确切信息，建议拨打12345热线咨询。"
CANDIDATES_KEPT = 3


class Outcome(StrEnum):
    """What kind of reply the engine gives."""

    ANSWER = "answer"
    SUGGEST = "suggest"
    FALLBACK = "fallback"
    SMALLTALK = "smalltalk"
    """Hello, thanks, who are you, bye…: a short reply from knowledge/data/smalltalk.yaml, no search."""
    PARTIAL = "partial"
    """On topic, but the reports do not give what was asked: says so, cites the related facts and 12345."""
    EMPTY = "empty"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The decision rule's knobs, tuned on the evaluation sets (see README)."""

    answer: float = 62.0
    """Minimum score to answer."""
    suggest: float = 50.0
    """Minimum score for an intent to be offered as a suggestion."""
    margin: float = 4.0
    """An answer needs this lead over the next intent; closer than that, the user chooses."""
    sure_similarity: float = 0.70
    """When the question is this close (0-1) to one of the best intent's examples, it is answered whatever the
    margin: it is that example, reworded. Vague one-word questions never come this close, so they get choices."""
    min_coverage: float = 0.6
    """An answer must explain at least this weighted share of the question's words."""
    max_suggestions: int = 3


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An intent offered when the engine is unsure, with the question that names it."""

    intent: str
    question: str


@dataclass(frozen=True, slots=True)
class Answer:
    """The engine's reply to one question, with everything an adapter needs to render it."""

    question: str
    outcome: Outcome
    reply: str
    """The reply body, without the source line."""
    score: float
    entry: Entry | None = None
    facts: tuple[Fact, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    """The best-ranked intents behind the decision (empty for picks and empty input), for the record."""
    confidence: float = 0.0
    """0-1: the calibrated probability that the best candidate is the right answer (see intents.scoring)."""
    parts: tuple[Answer, ...] = ()
    """For a message that asks two or more things: the answer to each, in order; the reply already carries
    each part's own source line, so the answer's own source line is empty."""

    @property
    def context(self) -> Context:
        """Return what the conversation should remember after this reply (the façade stores it)."""
        kept = self.entry.id if self.entry is not None and self.outcome in (Outcome.ANSWER, Outcome.PARTIAL) else None
        return Context(last_intent=kept, suggestions=tuple(s.intent for s in self.suggestions))

    @property
    def intent(self) -> str | None:
        """Return the answered intent's id, or None when nothing was answered."""
        return self.entry.id if self.entry is not None and self.outcome is Outcome.ANSWER else None

    @property
    def fallback(self) -> bool:
        """Return True when the question was not answered from the knowledge base."""
        return self.outcome is not Outcome.ANSWER  # the API contract: true for every outcome but an answer

    @property
    def figures(self) -> tuple[str, ...]:
        """Return the cited figures, verbatim."""
        return tuple(dict.fromkeys(f.figure for f in self.facts))

    @property
    def sources(self) -> tuple[Source, ...]:
        """Return the cited sources, newest first."""
        return distinct_sources(self.facts)

    @property
    def source_line(self) -> str:
        """Return the citation shown under the reply, empty when nothing is cited."""
        if not self.sources or self.parts:
            return ""
        return "来源：" + "；".join(s.label for s in self.sources)

    @property
    def text(self) -> str:
        """Return the full plain-text reply as a user sees it."""
        body = self.reply
        if self.suggestions:
            lines = [f"{i}. {s.question}" for i, s in enumerate(self.suggestions, 1)]
            body = "\n".join([SUGGEST_HEADER, *lines, SUGGEST_FOOTER])
        return f"{body}\n（{self.source_line}）" if self.source_line else body

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape shared by `ask --json` and the HTTP API."""
        return {
            "question": self.question,
            "answer": self.text,
            "intent": self.intent,
            "score": round(self.score, 1),
            "fallback": self.fallback,
            "figures": list(self.figures),
            "sources": [source_to_dict(s) for s in self.sources],
            "suggestions": [{"intent": s.intent, "question": s.question} for s in self.suggestions],
        }


def split_questions(text: str) -> list[str]:
    """Return the questions a message asks, split at question marks, full stops and semicolons (pieces shorter
    than two characters, such as a stray "嗯", are dropped)."""
    pieces = [p.strip() for p in QUESTION_BREAK.split(text)]
    return [p for p in pieces if len(p) >= MIN_PIECE_CHARS]


class Engine:
    """Answers questions from a validated knowledge base; knows nothing of Telegram or HTTP."""

    def __init__(
        self,
        kb: KnowledgeBase,
        thresholds: Thresholds | None = None,
        lexicon: Lexicon | None = None,
        *,
        cache_dir: Path | None = None,
        scoring: Scoring | None = None,
    ) -> None:
        """Build the engine; start-up work is cached in cache_dir (default: the per-user cache folder)."""
        self.kb = kb
        self.thresholds = thresholds or Thresholds()
        self.scoring = scoring or default_scoring()
        self.asked_kinds = load_asked_kinds()
        self.smalltalk = load_smalltalk()
        cache = Cache(cache_dir or default_folder())
        terms = [f.figure for e in kb.entries.values() for f in e.facts if not f.figure[:1].isdigit()]
        self.analyzer = Analyzer(lexicon or Lexicon.load(extra_words=terms, cache=cache))
        docs = (
            IntentDoc(
                id=e.id,
                questions=e.questions,
                reply=e.reply,
                terms=tuple(t for f in e.facts for t in (f.figure, f.measures, f.as_of or "")),
                figures=e.figures,
            )
            for e in kb.entries.values()
        )
        self.matcher = Matcher(self.analyzer, docs, cache=cache, weights=self.scoring.weights)
        logger.info("engine ready: %d entries, %d example questions", len(kb.entries), self.matcher.example_count)

    @classmethod
    def load(
        cls, thresholds: Thresholds | None = None, *, cache_dir: Path | None = None, data_dir: Path | None = None
    ) -> Engine:
        """Load and validate a knowledge base (the packaged one unless data_dir names another) and build the
        engine on it; KnowledgeBaseError lists every problem."""
        kb = load_knowledge_base(data_dir) if data_dir is not None else load_knowledge_base()
        return cls(kb, thresholds, cache_dir=cache_dir)

    def rank(self, question: str, *, limit: int = 5) -> list[Candidate]:
        """Return the best-scoring intents for a question (for diagnostics and evaluation)."""
        return self.matcher.rank(self.analyzer.analyze(question), limit=limit)

    def ask(self, question: str, context: Context | None = None) -> Answer:
        """Answer a question: a cited reply, suggestions when unsure, or the 12345 fallback.

        With the conversation's context, a follow-up that does not stand on its own ("那注销呢", "旗县呢",
        "2020年呢", "还有别的吗") is read against the last answered entry; a question answered on its own never is.
        """
        cleaned = clean_input(question)
        pieces = split_questions(cleaned)
        if len(pieces) > 1:
            several = self._several(cleaned, pieces, context)
            if several is not None:
                return several
        analysis = self.analyzer.analyze(cleaned)
        answer = self._ask(cleaned, analysis)[0]
        if context is None or answer.outcome in (Outcome.ANSWER, Outcome.SMALLTALK, Outcome.EMPTY):
            return answer
        last = self.kb.entries.get(context.last_intent or "")
        if last is None or not is_follow_up(analysis.normalized):
            return answer
        return self._follow_up(cleaned, analysis, last) or answer

    def _several(self, cleaned: str, pieces: list[str], context: Context | None) -> Answer | None:
        """Answer a message that asks several things ("企业开办要几天？注销呢？"), each piece read against the
        one before it, each answer with its source; the pieces the reports do not answer are named as such. None
        when the message is better answered whole (nothing found in its pieces, or one entry the whole reaches)."""
        answers: list[Answer] = []
        for piece in pieces:
            answer = self.ask(piece, context)
            context = answer.context if answer.context.last_intent else context
            if answer.outcome is not Outcome.SMALLTALK and answer.outcome is not Outcome.EMPTY:
                answers.append(answer)
        found = [a for a in answers if a.outcome in (Outcome.ANSWER, Outcome.PARTIAL) and a.entry is not None]
        entries = {a.entry.id for a in found if a.entry is not None}
        if not entries:
            return None
        if len(entries) == 1:
            # One thing found: the message may be one question with punctuation inside ("我想开公司。要几天？").
            if self._ask(cleaned, self.analyzer.analyze(cleaned))[0].outcome is Outcome.ANSWER:
                return None
            if len(answers) == len(found):
                return found[0]  # the rest was small talk ("你好！…")
        hotline = tuple(f for f in self.kb.fallback.facts if f.figure == "12345")
        blocks: list[str] = []
        facts: list[Fact] = []
        for number, part in enumerate(answers, 1):
            if any(part is f for f in found):
                blocks.append(f"{number}. {part.text}")
                facts += part.facts
            elif part.suggestions:
                choices = "、".join(f"“{s.question}”" for s in part.suggestions)
                blocks.append(f"{number}. {SEVERAL_SUGGEST.format(question=part.question, choices=choices)}")
            else:
                blocks.append(f"{number}. {SEVERAL_MISSING.format(question=part.question)}")
                facts += hotline
        whole = all(a.outcome is Outcome.ANSWER for a in answers)
        return Answer(
            question=cleaned,
            outcome=Outcome.ANSWER if whole else Outcome.PARTIAL,
            reply="\n\n".join(blocks),
            score=min(a.score for a in found),
            entry=found[0].entry,
            facts=tuple(dict.fromkeys(facts)),
            candidates=found[0].candidates,
            confidence=min(a.confidence for a in found),
            parts=tuple(answers),
        )

    def may_follow_up(self, question: str) -> bool:
        """Return True when a question is shaped like a follow-up ("那注销呢", "还有别的吗"), so the caller knows
        whether the conversation's context is worth fetching (cheap: normalisation only, no tokenising)."""
        return is_follow_up(normalize(clean_input(question)))

    def _related(self, last: Entry) -> list[Entry]:
        """Return the entries a follow-up to `last` can mean: itself, its topic's entries, its related entries."""
        related = [last, *(self.kb.entries[i] for i in last.related if i in self.kb.entries)]
        related += [e for e in self.kb.entries.values() if e.topic_id == last.topic_id]
        return list({e.id: e for e in related}.values())

    def _follow_up(self, cleaned: str, analysis: Analysis, last: Entry) -> Answer | None:
        """Return the reply to a follow-up read against the last entry, or None when it names nothing related."""
        related = self._related(last)
        if asks_for_more(analysis.normalized):
            others = [e for e in related if e.id != last.id][: self.thresholds.max_suggestions]
            if not others:
                return None
            hotline = tuple(f for f in self.kb.fallback.facts if f.figure == "12345")
            suggestions = tuple(Suggestion(e.id, e.questions[0]) for e in others)
            return Answer(
                question=cleaned,
                outcome=Outcome.SUGGEST,
                reply=SUGGEST_HEADER,
                score=0.0,
                facts=hotline,
                suggestions=suggestions,
            )
        if not analysis.tokens:
            return None
        asked = self.matcher.asked(analysis.tokens)
        scope = [*(f"{y}年" for y in asked.years), *asked.constraints]
        rest = [t for t in analysis.tokens if t not in INTERROGATIVES and t not in SCOPE_WORDS]
        if scope and len(scope) == len(rest):
            # Only a year or a place ("2020年呢", "包头呢"): the same entry, in that scope if the reports give it.
            text = last.reply + "".join(last.questions)
            missing = [w for w in scope if w.removesuffix("年") not in text]
            if missing:
                return self._partial(cleaned, last, 0.0, f"{'、'.join(missing)}的相关情况")
            return self.answer_entry(last.id, question=cleaned)
        ids = {e.id for e in related}
        near = [c for c in self.matcher.rank(analysis, limit=len(self.kb.entries)) if c.intent in ids]
        near = [c for c in near if c.coverage >= self.thresholds.min_coverage]
        if not near:
            return None
        best = near[0]
        if len(near) > 1 and near[1].score == best.score and last.id in (near[0].intent, near[1].intent):
            best = next(c for c in near[:2] if c.intent == last.id)  # a tie: the entry already being discussed
        return self.answer_entry(best.intent, question=cleaned, score=best.score)

    def _ask(self, cleaned: str, analysis: Analysis) -> tuple[Answer, str, list[Candidate]]:
        """Return the answer, the reason for the decision and the ranked candidates.

        A question left unanswered whole is tried again on its last clauses ("我是做餐饮的，想开个店，到底要几天"):
        background told before the question (who is asking, why) must not drown the question itself. Clauses
        naming a place, year or period are never dropped; only an answer counts; the question as asked stays the
        answer's question."""
        answer, reason, candidates = self._ask_whole(cleaned, analysis)
        if answer.outcome not in (Outcome.FALLBACK, Outcome.SUGGEST):
            return answer, reason, candidates
        parts = [p for p in CLAUSE_BREAK.split(cleaned) if p.strip()]
        # The last two clauses, then three, … never the whole again, and a few tries at most (a message of a
        # thousand commas costs no more than one of five).
        for start in range(len(parts) - 2, max(0, len(parts) - 2 - MAX_CLAUSE_TRIES), -1):
            head = self.matcher.asked(self.analyzer.analyze("，".join(parts[:start])).tokens)
            if head.years or head.constraints:
                continue  # a clause naming another place or year ("我在包头，…") is no mere background
            tail = "，".join(parts[start:])
            found, why, ranked = self._ask_whole(tail, self.analyzer.analyze(tail))
            if found.outcome is Outcome.ANSWER:
                return replace(found, question=cleaned), f"from its last clauses «{tail}»: {why}", ranked
        return answer, reason, candidates

    def _ask_whole(self, cleaned: str, analysis: Analysis) -> tuple[Answer, str, list[Candidate]]:
        """Return the answer to the question as a whole, the reason for the decision and the ranked candidates."""
        chat = self.smalltalk.match(analysis.normalized)
        if chat is not None:
            answer = Answer(question=cleaned, outcome=Outcome.SMALLTALK, reply=self.smalltalk.reply(chat), score=0.0)
            return answer, f"small talk: {chat}", []
        if not analysis.tokens:
            if not analysis.normalized:
                return Answer(question=cleaned, outcome=Outcome.EMPTY, reply=EMPTY_PROMPT, score=0.0), "empty", []
            return self._fallback(cleaned, 0.0), "no content word is left after stop words", []
        if all(t in INTERROGATIVES for t in analysis.tokens):
            return self._fallback(cleaned, 0.0), "only question words: nothing names a topic", []
        candidates = self.matcher.rank(analysis, limit=self.thresholds.max_suggestions + 1)
        answer, reason = self._decide(cleaned, candidates, analysis.normalized)
        if answer.outcome is Outcome.FALLBACK:
            partial = self._scope_partial(cleaned, candidates, analysis.tokens)
            if partial is not None:
                answer, reason = partial, f"{partial.entry.id if partial.entry else ''} is on topic in another scope"
        kept = tuple(candidates[:CANDIDATES_KEPT])
        return replace(answer, candidates=kept, confidence=self.confidence(candidates)), reason, candidates

    def explain(self, question: str) -> Explanation:
        """Return why the question gets its reply: analysis, candidates feature by feature, decision and reason."""
        cleaned = clean_input(question)
        analysis, corrected, synonyms = self.analyzer.trace(cleaned)
        answer, reason, candidates = self._ask(cleaned, analysis)
        weight = self.analyzer.lexicon.weight
        weights = self.scoring.weights
        return Explanation(
            question=cleaned,
            normalized=analysis.normalized,
            corrected=corrected,
            tokens=tuple((t, weight(t)) for t in analysis.tokens),
            synonyms=synonyms,
            units=tuple(sorted(analysis.units)),
            candidates=tuple(
                CandidateExplanation(
                    intent=c.intent,
                    question=self.kb.entries[c.intent].questions[0] if c.intent in self.kb.entries else c.intent,
                    example=c.example,
                    score=c.score,
                    coverage=c.coverage,
                    contributions=contributions(c.features, weights),
                )
                for c in candidates
            ),
            outcome=str(answer.outcome),
            intent=answer.intent,
            confidence=answer.confidence,
            reason=reason,
        )

    def confidence(self, candidates: list[Candidate]) -> float:
        """Return the calibrated confidence that the first candidate is right, from its score, lead and coverage."""
        if not candidates:
            return 0.0
        best = candidates[0]
        gap = best.score - (candidates[1].score if len(candidates) > 1 else 0.0)
        return self.scoring.calibration.confidence(best.score, gap, best.coverage)

    def decide(self, question: str, candidates: list[Candidate]) -> Answer:
        """Apply the decision rule to ranked candidates."""
        return replace(self._decide(question, candidates)[0], confidence=self.confidence(candidates))

    def _decide(self, question: str, candidates: list[Candidate], normalized: str = "") -> tuple[Answer, str]:
        """Return the decision and its reason, in English, for explanations."""
        t = self.thresholds
        eligible = [c for c in candidates if c.coverage >= t.min_coverage]
        if not eligible:
            score = candidates[0].score if candidates else 0.0
            reason = (
                f"no candidate explains {t.min_coverage:.0%} of the question's words"
                if candidates
                else "no example shares a word with the question"
            )
            return self._fallback(question, score), reason
        best = eligible[0]
        runner_up = eligible[1].score if len(eligible) > 1 else 0.0
        sure = best.similarity >= t.sure_similarity
        if best.score >= t.answer and (sure or best.score - runner_up >= t.margin):
            lead = best.score - runner_up
            why = "it is a rewording of an example" if sure else f"it leads the runner-up by {lead:.1f}"
            entry = self.kb.entries[best.intent]
            unmet = self.asked_kinds.unmet(self.asked_kinds.detect(normalized or normalize(question)), entry.facts)
            if unmet:
                missing = "、".join(k.missing for k in unmet)
                kinds = ", ".join(k.name for k in unmet)
                reason = f"{best.intent} is on topic but has no fact of the kind asked ({kinds})"
                return self._partial(question, entry, best.score, missing), reason
            answer = self.answer_entry(best.intent, question=question, score=best.score)
            return answer, f"answered {best.intent}: score {best.score:.1f}, {why}"
        offered = [c for c in eligible if c.score >= t.suggest][: t.max_suggestions]
        if offered:
            suggestions = tuple(Suggestion(c.intent, self.kb.entries[c.intent].questions[0]) for c in offered)
            hotline = tuple(f for f in self.kb.fallback.facts if f.figure == "12345")
            reason = (
                f"score {best.score:.1f} is under {t.answer:.0f}"
                if best.score < t.answer
                else f"{best.intent} leads {eligible[1].intent} by only {best.score - runner_up:.1f}"
            )
            answer = Answer(
                question=question,
                outcome=Outcome.SUGGEST,
                reply=SUGGEST_HEADER,
                score=best.score,
                facts=hotline,
                suggestions=suggestions,
            )
            return answer, f"suggested {len(offered)}: {reason}"
        reason = f"best score {best.score:.1f} is under the suggestion level {t.suggest:.0f}"
        return self._fallback(question, best.score), reason

    def answer_entry(self, intent: str, *, question: str | None = None, score: float = 100.0) -> Answer:
        """Return the cited answer of one entry, as when a user picks a suggestion; KeyError if unknown."""
        entry = self.kb.entries[intent]
        return Answer(
            question=question if question is not None else entry.questions[0],
            outcome=Outcome.ANSWER,
            reply=entry.reply,
            score=score,
            entry=entry,
            facts=entry.facts,
        )

    def _partial(self, question: str, entry: Entry, score: float, missing: str) -> Answer:
        """Say plainly what the reports do not give, with the entry's related cited facts and the 12345 guidance."""
        hotline = tuple(f for f in self.kb.fallback.facts if f.figure == "12345")
        return Answer(
            question=question,
            outcome=Outcome.PARTIAL,
            reply=PARTIAL_TEMPLATE.format(missing=missing, reply=entry.reply),
            score=score,
            entry=entry,
            facts=(*entry.facts, *hotline),
        )

    def _scope_partial(self, question: str, candidates: list[Candidate], tokens: tuple[str, ...]) -> Answer | None:
        """Return a partial answer when the best candidate fails only because the question names another year or
        place than the entry covers (2025年企业开办要几天): the related figure, with what the reports lack."""
        if not candidates:
            return None
        best = candidates[0]
        f = best.features
        if not (f.year_mismatch or f.place_mismatch) or f.unit_mismatch or f.detail_mismatch or f.list_mismatch:
            return None
        weights = self.scoring.weights
        in_scope = score(replace(f, year_mismatch=0, place_mismatch=0), weights)
        runner_up = candidates[1].score if len(candidates) > 1 else 0.0
        t = self.thresholds
        if f.coverage < t.min_coverage or in_scope < t.answer or in_scope - runner_up < t.margin:
            return None
        entry = self.kb.entries.get(best.intent)
        if entry is None:
            return None
        text = entry.reply + "".join(entry.questions)
        asked = self.matcher.asked(tokens)
        words = [f"{y}年" for y in asked.years if y not in text] + [c for c in asked.constraints if c not in text]
        if not words:
            return None
        return self._partial(question, entry, best.score, f"{'、'.join(words)}的相关情况")

    def _fallback(self, question: str, score: float) -> Answer:
        fb = self.kb.fallback
        return Answer(question=question, outcome=Outcome.FALLBACK, reply=fb.reply, score=score, facts=fb.facts)
