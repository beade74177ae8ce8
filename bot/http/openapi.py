"""The OpenAPI 3.1 description of the JSON API, built for the server's actual settings (auth on or off).

The request and reply bodies of /v1/ask and /v1/feedback are the wire models' own JSON Schemas (bot/http/wire.py);
the rest is written here.
"""

from __future__ import annotations

from typing import Any

from bot.http.limits import MAX_BODY_BYTES
from bot.http.wire import REF_TEMPLATE, component_schemas
from knowledge import AnswerKind

ERROR_CODES = (
    "invalid_json",
    "missing_question",
    "invalid_question",
    "question_too_long",
    "invalid_chat_id",
    "invalid_feedback",
    "client_disconnected",
    "body_too_large",
    "unauthorized",
    "rate_limited",
    "not_found",
    "method_not_allowed",
    "http_error",
    "internal_error",
)

_NULLABLE_STRING: dict[str, Any] = {"type": ["string", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=name)}


def _json(schema: dict[str, Any], description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


SCHEMAS: dict[str, Any] = {
    **component_schemas(),  # AskRequest, Answer, Source, Suggestion, FeedbackRequest, Feedback
    "Topics": _obj(
        {
            "topics": {
                "type": "array",
                "items": _obj(
                    {
                        "id": {"type": "string"},
                        "title": {"type": "string"},
                        "entries": {
                            "type": "array",
                            "items": _obj({"id": {"type": "string"}, "question": {"type": "string"}}),
                        },
                    }
                ),
            }
        }
    ),
    "Fact": _obj(
        {
            "figure": {"type": "string"},
            "kind": {"enum": [k.value for k in AnswerKind], "description": "What kind of answer the fact gives."},
            "measures": {"type": "string"},
            "as_of": _NULLABLE_STRING,
            "source": {"type": "string", "description": "A source id."},
        }
    ),
    "Entry": _obj(
        {
            "id": {"type": "string"},
            "topic": {"type": "string"},
            "questions": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "reply": {"type": "string"},
            "facts": {"type": "array", "items": _ref("Fact")},
            "sources": {"type": "array", "items": _ref("Source")},
            "related": {"type": "array", "items": {"type": "string"}},
        }
    ),
    "Health": _obj(
        {
            "status": {"enum": ["ok", "degraded", "failing"]},
            "checks": _obj(
                {
                    "engine": {"type": "string", "description": "ok when a known question gets its figure."},
                    "store": {"type": "string", "description": "ok when the store answers and takes writes."},
                }
            ),
            "knowledge_base": _obj(
                {
                    "loaded": {"type": "boolean"},
                    "topics": {"type": "integer", "minimum": 0},
                    "entries": {"type": "integer", "minimum": 0},
                    "version": {"type": "string"},
                    "loaded_at": {"type": "string", "description": "When that knowledge base was loaded (UTC)."},
                }
            ),
        }
    ),
    "Error": _obj(
        {
            "error": {"type": "string", "enum": list(ERROR_CODES), "description": "A stable English code."},
            "message": {"type": "string", "description": "What went wrong, in Chinese, for people."},
        }
    ),
}


def build_openapi(*, auth: bool, rate_limit_per_minute: int) -> dict[str, Any]:
    """Return the OpenAPI document of a server with or without API keys."""
    error = _ref("Error")
    retry_after = {
        "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer", "minimum": 1}}
    }
    guarded: dict[str, Any] = {
        "429": _json(
            error, f"Too many requests: more than {rate_limit_per_minute} a minute for this caller.", retry_after
        ),
    }
    if auth:
        guarded["401"] = _json(
            error,
            "Missing or unknown API key.",
            {"WWW-Authenticate": {"description": "The Bearer challenge.", "schema": {"type": "string"}}},
        )
    security: dict[str, Any] = {"security": [{"bearerAuth": []}]} if auth else {}
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "呼和浩特营商环境与政务服务问答助手 API",
            "version": "1.0.0",
            "description": (
                "Ask questions about Hohhot's business environment and government services; every answer cites "
                "its source, and a question the knowledge base cannot answer gets the 12345 hotline guidance. "
                f"Requests under /v1 are limited to {rate_limit_per_minute} a minute per API key "
                "(per client address without keys)."
            ),
        },
        "paths": {
            "/v1/ask": {
                "post": {
                    "operationId": "ask",
                    "summary": "Answer one question (the JSON of `python -m bot ask --json`).",
                    **security,
                    "requestBody": {
                        "required": True,
                        "description": f"At most {MAX_BODY_BYTES // 1024} KiB.",
                        "content": {"application/json": {"schema": _ref("AskRequest")}},
                    },
                    "responses": {
                        "200": _json(_ref("Answer"), "The answer, suggestions, or the 12345 fallback."),
                        "400": _json(error, "Malformed JSON, a missing or non-string question, a bad chat_id."),
                        "413": _json(error, f"The body is larger than {MAX_BODY_BYTES // 1024} KiB."),
                        **guarded,
                    },
                }
            },
            "/v1/feedback": {
                "post": {
                    "operationId": "feedback",
                    "summary": "👍 or 👎 on a reply; the same caller voting again changes the vote.",
                    **security,
                    "requestBody": {
                        "required": True,
                        "description": f"At most {MAX_BODY_BYTES // 1024} KiB.",
                        "content": {"application/json": {"schema": _ref("FeedbackRequest")}},
                    },
                    "responses": {
                        "200": _json(_ref("Feedback"), "The stored vote."),
                        "400": _json(error, "Malformed JSON, a missing id, a vote other than up or down."),
                        "404": _json(error, "No reply has this id."),
                        "413": _json(error, f"The body is larger than {MAX_BODY_BYTES // 1024} KiB."),
                        **guarded,
                    },
                }
            },
            "/v1/topics": {
                "get": {
                    "operationId": "listTopics",
                    "summary": "List the topics and their entries.",
                    **security,
                    "responses": {"200": _json(_ref("Topics"), "Every topic in file order."), **guarded},
                }
            },
            "/v1/entries/{id}": {
                "get": {
                    "operationId": "getEntry",
                    "summary": "One entry: questions, reply, facts and sources.",
                    **security,
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": _json(_ref("Entry"), "The entry."),
                        "404": _json(error, "No entry has this id."),
                        **guarded,
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "Health: the engine answers a known question right and the store takes writes.",
                    "responses": {
                        "200": _json(_ref("Health"), "ok, or degraded (answers go on, the store fails)."),
                        "503": _json(_ref("Health"), "failing: the engine does not answer right."),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "summary": "Prometheus metrics.",
                    "responses": {
                        "200": {
                            "description": "Prometheus text exposition format.",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document.",
                    "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }
    if auth:
        doc["components"]["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer"}}
    return doc
