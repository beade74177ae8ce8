"""The wire model of /v1/ask and /v1/feedback: pydantic models that validate requests and shape replies.

The OpenAPI document's schemas for these bodies are generated from the models (`component_schemas`), so every
limit is written once, in bot/http/limits.py, and stated where it is enforced. Bodies are decoded as strict
UTF-8 JSON before a model sees them (`json_object`); a model's validation errors become the API's error codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictInt,
    StrictStr,
    ValidationError,
    WrapValidator,
)
from pydantic.json_schema import JsonSchemaMode, JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema
from pydantic_core.core_schema import ValidatorFunctionWrapHandler

from bot.http.errors import ApiError
from bot.http.limits import (
    MAX_CHAT_ID_CHARS,
    MAX_QUESTION_CHARS,
    MAX_REASON_CHARS,
    MAX_RECORD_ID_CHARS,
    MAX_SUGGESTIONS,
)
from bot.service import Reply

REF_TEMPLATE = "#/components/schemas/{model}"
ASK_EXAMPLE = '例如 {"question": "企业开办要几天"}'
FEEDBACK_EXAMPLE = '例如 {"id": "<POST /v1/ask 返回的 id>", "vote": "up"}'


@dataclass(frozen=True, slots=True)
class MaxChars:
    """At most `limit` characters, stated as JSON Schema's maxLength.

    pydantic's own `max_length` refuses strings holding lone surrogates outright; a question may hold one (it is
    valid JSON and is answered), so the length is checked here, on the Python string.
    """

    limit: int

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        """Check the length after the inner (string) validation."""
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """State the limit as maxLength."""
        return {**handler(schema), "maxLength": self.limit}

    def _check(self, value: str) -> str:
        if len(value) > self.limit:
            raise PydanticCustomError(
                "string_too_long", "at most {max_length} characters", {"max_length": self.limit}
            )
        return value


def _utf8(value: str) -> str:
    """Refuse text with lone surrogates ("\\ud800" is valid JSON but no valid UTF-8 string)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("string_unicode", "a lone surrogate is not text") from None
    return value


def _integral_float(value: object) -> object:
    """Take 1.0 as the integer 1: JSON Schema counts it as an integer, so the API does too."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Utf8 = BeforeValidator(lambda value: _utf8(value) if isinstance(value, str) else value)
ChatId = Annotated[
    StrictInt | Annotated[StrictStr, MaxChars(MAX_CHAT_ID_CHARS), Utf8] | None,
    BeforeValidator(_integral_float),
]
"""An asking user's or chat's id: an integer (1.0 included, booleans not), a short string, or null."""


def _ignore_invalid(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    try:
        return handler(value)
    except ValidationError:
        return None


class AskRequest(BaseModel):
    """One question to answer. Other fields are ignored."""

    model_config = ConfigDict(strict=True, frozen=True)

    question: Annotated[str, MaxChars(MAX_QUESTION_CHARS)] = Field(description="The question, in Chinese.")
    chat_id: ChatId = Field(
        default=None,
        description="Optional id of the asking user or chat (null: none); only its salted hash is kept.",
    )


class FeedbackRequest(BaseModel):
    """A vote on one reply; other fields are ignored."""

    model_config = ConfigDict(strict=True, frozen=True)

    id: Annotated[str, Field(min_length=1), MaxChars(MAX_RECORD_ID_CHARS), Utf8] = Field(
        description="The `id` of a /v1/ask reply."
    )
    vote: Literal["up", "down"]
    reason: Annotated[str, MaxChars(MAX_REASON_CHARS), Utf8] | None = None
    chat_id: Annotated[ChatId, WrapValidator(_ignore_invalid)] = Field(
        default=None,
        description="Optional id of the voter (the same voter voting again changes the vote); "
        "without a valid one the API key, else the client address, votes. Another value is ignored.",
    )


class Source(BaseModel):
    """A report an answer cites."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str | None
    publisher: str | None
    date: str


class Suggestion(BaseModel):
    """An entry the question may have meant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    intent: str
    question: str


class Answer(BaseModel):
    """The reply to one question: the JSON of `python -m bot ask --json`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="This reply's record id (the id feedback refers to).")
    outcome: str = Field(
        description="answer, suggest, fallback, partial, smalltalk or empty (more may be added); "
        "fallback is true for all but answer."
    )
    question: str = Field(description="The question as the engine read it (cleaned).")
    answer: str = Field(description="The full reply text with its source line.")
    intent: str | None = Field(description="The answered entry's id; null unless answered.")
    score: float
    fallback: bool = Field(description="True when suggesting or falling back to 12345.")
    figures: list[str]
    sources: list[Source]
    suggestions: list[Suggestion] = Field(max_length=MAX_SUGGESTIONS)
    kb_version: str = Field(description="A short content hash of the answering knowledge base.")

    @classmethod
    def of(cls, reply: Reply) -> Answer:
        """Return a reply's wire shape (checked against the model)."""
        return cls.model_validate(reply.to_dict())


class Feedback(BaseModel):
    """A stored vote."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    vote: Literal["up", "down"]
    reason: str | None


WIRE_MODELS: tuple[tuple[type[BaseModel], JsonSchemaMode], ...] = (
    (AskRequest, "validation"),
    (FeedbackRequest, "validation"),
    (Answer, "serialization"),
    (Feedback, "serialization"),
)
"""The models of the document's components, each in the direction it crosses the wire."""


def component_schemas(models: Iterable[tuple[type[BaseModel], JsonSchemaMode]] = WIRE_MODELS) -> dict[str, Any]:
    """Return the JSON Schemas of models and of the models they use, by name, for the OpenAPI components."""
    out: dict[str, Any] = {}
    for model, mode in models:
        schema = model.model_json_schema(ref_template=REF_TEMPLATE, mode=mode)
        for name, nested in {**schema.pop("$defs", {}), model.__name__: schema}.items():
            if out.setdefault(name, nested) != nested:
                raise ValueError(f"two different schemas are both named {name}")
    return out


def json_object(body: bytes, example: str) -> dict[str, Any]:
    """Return a request body's JSON object, or raise ApiError (400 invalid_json) with the example of a valid body."""
    try:
        text = body.decode("utf-8")  # json.loads(bytes) would also take UTF-16 and UTF-32; the API is UTF-8 only
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", f"请求体必须是 UTF-8 编码的 JSON，{example}。") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: thousands of nested brackets fit in 16 KiB
        raise ApiError(400, "invalid_json", f"请求体不是有效的 JSON，{example}。") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", f"请求体必须是 JSON 对象，{example}。")
    return data


M = TypeVar("M", bound=BaseModel)
Refusal = Callable[[str, str], ApiError]
"""Turn a validation error's field and type into the API's refusal."""


def _validate(model: type[M], data: dict[str, Any], refuse: Refusal) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]  # errors come in field order: the first field that fails is named
        raise refuse(str(first["loc"][0]), first["type"]) from None


def _ask_refusal(field: str, kind: str) -> ApiError:
    if field == "question" and kind == "missing":
        return ApiError(400, "missing_question", f"缺少 question 字段，{ASK_EXAMPLE}。")
    if field == "question" and kind == "string_too_long":
        return ApiError(400, "question_too_long", f"问题太长：请不要超过 {MAX_QUESTION_CHARS} 个字符。")
    if field == "question":
        return ApiError(400, "invalid_question", "question 字段必须是字符串。")
    return ApiError(400, "invalid_chat_id", f"chat_id 必须是整数或不超过 {MAX_CHAT_ID_CHARS} 个字符的字符串。")


def _feedback_refusal(field: str, kind: str) -> ApiError:
    if field == "vote":
        return ApiError(400, "invalid_feedback", 'vote 必须是 "up" 或 "down"。')
    if field == "reason":
        return ApiError(400, "invalid_feedback", f"reason 必须是不超过 {MAX_REASON_CHARS} 个字符的字符串。")
    return ApiError(400, "invalid_feedback", f"id 必须是 /v1/ask 返回的 id 字符串，{FEEDBACK_EXAMPLE}。")


def parse_ask(body: bytes) -> AskRequest:
    """Return the ask request of a body, or raise ApiError (400) saying what is wrong."""
    return _validate(AskRequest, json_object(body, ASK_EXAMPLE), _ask_refusal)


def parse_feedback(body: bytes) -> FeedbackRequest:
    """Return the feedback request of a body, or raise ApiError (400) saying what is wrong."""
    return _validate(FeedbackRequest, json_object(body, FEEDBACK_EXAMPLE), _feedback_refusal)

