"""Turn raw user text into a canonical form: half-width, simplified, folded, without noise."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

MAX_INPUT_CHARS = 2_000
"""Raw input beyond this is dropped before any processing, so huge messages cost nothing."""

MAX_QUESTION_CHARS = 120
"""Normalised text beyond this is cut before matching: a question is short; the rest is noise."""

_MENTION = re.compile(r"@[A-Za-z0-9_]{2,64}")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")
_HIDDEN_ELEMENT = re.compile(r"<(script|style)\b[^<>]{0,200}>.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
"""A script or style element: its content is code, never words of the question."""
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
# Keep CJK ideographs, Latin letters, digits and the few symbols figures use; everything else separates words.
_NOISE = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff.%]+")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def clean_input(text: str) -> str:
    """Return user text safe to store or display: bounded, no control characters, whitespace folded."""
    text = text[:MAX_INPUT_CHARS]
    # Format characters (zero-width space and joiner, BOM, bidi marks) are invisible: drop them, so "企\u200b业"
    # stays one word. Other control characters (tabs, newlines, NUL) separate words.
    text = "".join(_clean_char(ch) for ch in text)
    return _SPACES.sub(" ", text).strip()


def _clean_char(ch: str) -> str:
    category = unicodedata.category(ch)
    if category == "Cf":
        return ""
    return " " if category[0] == "C" else ch


def normalize(text: str) -> str:
    """Return text half-width, simplified, case-folded, with mentions, URLs, emoji and punctuation removed."""
    text = unicodedata.normalize("NFKC", text[:MAX_INPUT_CHARS])
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")  # invisible: never split a word
    text = _HIDDEN_ELEMENT.sub(" ", text)
    text = _HTML_TAG.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    simplified = _converter().convert(text)
    if simplified != text:  # a few characters take two steps (薴 → 苧 → 苎): convert once more
        simplified = _converter().convert(simplified)
    text = simplified.casefold()
    text = _NOISE.sub(" ", text)
    # A dot is only meaningful inside a number (99.9); elsewhere it is punctuation.
    text = re.sub(r"(?<![0-9])\.|\.(?![0-9])", " ", text)
    text = _SPACES.sub(" ", text).strip()
    return text[:MAX_QUESTION_CHARS].strip()
