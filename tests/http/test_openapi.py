"""/openapi.json is a valid OpenAPI 3.1 document, and the real server's responses match it, status by status; its
body schemas are the wire models' own, and a body is accepted exactly when the document's schema accepts it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from http_helpers import ANSWERED, OUT_OF_SCOPE, Running, ServerFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from starlette.routing import BaseRoute, Mount, Route

from bot.admin.routes import is_admin_path
from bot.http import MAX_BODY_BYTES
from bot.http.limits import MAX_CHAT_ID_CHARS, MAX_QUESTION_CHARS, MAX_SUGGESTIONS
from bot.http.wire import REF_TEMPLATE, WIRE_MODELS
from bot.web.routes import WEB_PATHS

KEY = "openapi-test-key-93b1"

Observed = set[tuple[str, str, str]]


def _check(doc: dict[str, Any], template: str, response: httpx.Response, observed: Observed) -> None:
    """Validate one real response against the document; record (path, method, status)."""
    method = response.request.method.lower()
    operation = doc["paths"][template][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method.upper()} {template}: undocumented status {status}"
    documented = operation["responses"][status]
    media_type, media = next(iter(documented["content"].items()))
    assert response.headers["content-type"].split(";")[0] == media_type
    if media_type == "application/json":
        # Validate against the document itself, so its $refs resolve exactly as a client's would.
        schema = {**media["schema"], "components": doc["components"]}
        errors = sorted(Draft202012Validator(schema).iter_errors(response.json()), key=str)
        assert not errors, f"{method.upper()} {template} {status}: {errors[0].message}"
    for header, spec in documented.get("headers", {}).items():
        assert header.lower() in response.headers, f"{template} {status}: missing header {header}"
        if spec["schema"]["type"] == "integer":
            assert int(response.headers[header]) >= spec["schema"].get("minimum", 0)
    observed.add((template, method, status))


def _documented(doc: dict[str, Any]) -> Observed:
    return {
        (path, method, status)
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        for status in op["responses"]
    }


def _exercise(api: Running, doc: dict[str, Any], headers: dict[str, str]) -> Observed:
    observed: Observed = set()
    client = api.client
    entry = client.get("/v1/topics", headers=headers).json()["topics"][0]["entries"][0]["id"]
    record = client.post("/v1/ask", json={"question": ANSWERED}, headers=headers).json()["id"]
    vote = {"id": record, "vote": "down", "reason": "已过时"}
    calls: list[tuple[str, httpx.Response]] = [
        ("/v1/feedback", client.post("/v1/feedback", json=vote, headers=headers)),
        ("/v1/feedback", client.post("/v1/feedback", json={"id": "0" * 32, "vote": "up"}, headers=headers)),
        ("/v1/feedback", client.post("/v1/feedback", json={"id": record, "vote": "meh"}, headers=headers)),
        ("/v1/feedback", client.post("/v1/feedback", content=b"x" * (MAX_BODY_BYTES + 1), headers=headers)),
        ("/v1/ask", client.post("/v1/ask", json={"question": ANSWERED}, headers=headers)),
        ("/v1/ask", client.post("/v1/ask", json={"question": OUT_OF_SCOPE, "chat_id": 7}, headers=headers)),
        ("/v1/ask", client.post("/v1/ask", json={"question": "营商环境"}, headers=headers)),
        ("/v1/ask", client.post("/v1/ask", json={"question": ""}, headers=headers)),
        ("/v1/ask", client.post("/v1/ask", content=b"{", headers=headers)),
        ("/v1/ask", client.post("/v1/ask", json={"question": 1}, headers=headers)),
        ("/v1/ask", client.post("/v1/ask", content=b"x" * (MAX_BODY_BYTES + 1), headers=headers)),
        ("/v1/topics", client.get("/v1/topics", headers=headers)),
        ("/v1/entries/{id}", client.get(f"/v1/entries/{entry}", headers=headers)),
        ("/v1/entries/{id}", client.get("/v1/entries/nope", headers=headers)),
        ("/healthz", client.get("/healthz")),
        ("/healthz", _failing_health(api)),
        ("/metrics", client.get("/metrics")),
        ("/openapi.json", client.get("/openapi.json")),
    ]
    if headers:
        calls += [
            ("/v1/ask", client.post("/v1/ask", json={"question": ANSWERED})),
            ("/v1/topics", client.get("/v1/topics")),
            ("/v1/feedback", client.post("/v1/feedback", json=vote)),
            ("/v1/entries/{id}", client.get(f"/v1/entries/{entry}", headers={"Authorization": "Bearer wrong"})),
        ]
    for template, response in calls:
        _check(doc, template, response, observed)
    # Now use up the rate limit: every /v1 operation must then answer 429 as documented.
    for _ in range(200):
        if client.get("/v1/topics", headers=headers).status_code == 429:
            break
    limited = [
        ("/v1/ask", "/v1/ask", "POST"),
        ("/v1/topics", "/v1/topics", "GET"),
        ("/v1/entries/{id}", f"/v1/entries/{entry}", "GET"),
        ("/v1/feedback", "/v1/feedback", "POST"),
    ]
    for template, path, method in limited:
        body = ({"question": ANSWERED} if path == "/v1/ask" else vote) if method == "POST" else None
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 429
        _check(doc, template, response, observed)
    return observed


def _failing_health(api: Running) -> httpx.Response:
    """Make the engine's probe expect a figure its answer lacks: /healthz must then say failing (503)."""
    checks = api.app.state.api.health_checks
    probe = checks.probe
    assert probe is not None
    checks.probe = (OUT_OF_SCOPE, probe[1])
    checks.clear()
    try:
        response = api.client.get("/healthz")
        assert response.status_code == 503 and response.json()["status"] == "failing"
        return response
    finally:
        checks.probe = probe
        checks.clear()


@pytest.mark.parametrize("keys", [(), (KEY,)], ids=["open", "api-keys"])
def test_real_responses_match_the_document(start_server: ServerFactory, keys: tuple[str, ...]) -> None:
    api = start_server(api_keys=keys, rate_limit_per_minute=40)
    doc = api.client.get("/openapi.json").json()
    validate(doc)
    assert ("securitySchemes" in doc["components"]) is bool(keys)
    observed = _exercise(api, doc, {"Authorization": f"Bearer {KEY}"} if keys else {})
    assert observed == _documented(doc), "documented statuses the server never gave, or the reverse"


def _served(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Yield the (path, method) of every route, those mounted below a prefix (the guarded /v1) included."""
    for route in routes:
        if isinstance(route, Mount):
            yield from _served(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            yield from ((prefix + route.path, method.lower()) for method in route.methods or () if method != "HEAD")


def test_every_route_is_documented(api: Running) -> None:
    doc = api.client.get("/openapi.json").json()
    # The chat page's own calls are described in docs/http-api.md, the admin console's in docs/curation.md.
    routes = {
        (path, method) for path, method in _served(api.app.routes) if path not in WEB_PATHS and not is_admin_path(path)
    }
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert routes == documented


@pytest.mark.parametrize(
    "body",
    [
        {"question": ANSWERED},
        {"question": ANSWERED, "chat_id": 12},
        {"question": ANSWERED, "chat_id": 12.0},
        {"question": ANSWERED, "chat_id": "u-1"},
        {"question": ANSWERED, "chat_id": "x" * 128},
        {"question": ANSWERED, "extra": [1, 2]},
        {"question": "企" * 4096},
        {"question": "企" * 4097},
        {"question": ANSWERED, "chat_id": "x" * 129},
        {"question": ANSWERED, "chat_id": True},
        {"question": ANSWERED, "chat_id": 1.5},
        {"question": ANSWERED, "chat_id": None},
        {"question": None},
        {"question": ["x"]},
        {"chat_id": 1},
        [ANSWERED],
        ANSWERED,
    ],
)
def test_the_request_schema_accepts_exactly_what_the_server_accepts(api: Running, body: Any) -> None:
    doc = api.client.get("/openapi.json").json()
    schema = {**doc["components"]["schemas"]["AskRequest"], "components": doc["components"]}
    valid = Draft202012Validator(schema).is_valid(body)
    content = json.dumps(body, ensure_ascii=False).encode()
    assert len(content) <= MAX_BODY_BYTES
    response = api.client.post("/v1/ask", content=content)
    assert response.status_code == (200 if valid else 400), response.text


def test_the_bodies_schemas_are_the_wire_models_own(api: Running) -> None:
    components = api.client.get("/openapi.json").json()["components"]["schemas"]
    assert {"AskRequest", "Answer", "FeedbackRequest", "Feedback"} <= {model.__name__ for model, _ in WIRE_MODELS}
    for model, mode in WIRE_MODELS:
        schema = model.model_json_schema(ref_template=REF_TEMPLATE, mode=mode)
        for name, nested in schema.pop("$defs", {}).items():
            assert components[name] == nested, name
        assert components[model.__name__] == schema, model.__name__
    assert components["AskRequest"]["properties"]["question"]["maxLength"] == MAX_QUESTION_CHARS
    assert components["Answer"]["properties"]["suggestions"]["maxItems"] == MAX_SUGGESTIONS


def _documented_code(validator: Draft202012Validator, body: Any) -> str | None:
    """Return the error code docs/http-api.md gives a body the AskRequest schema refuses (None: it accepts)."""
    errors = list(validator.iter_errors(body))
    if not errors:
        return None
    if any(not error.absolute_path and error.validator == "type" for error in errors):
        return "invalid_json"  # not a JSON object
    if any(error.validator == "required" for error in errors):
        return "missing_question"
    question = [error for error in errors if list(error.absolute_path)[:1] == ["question"]]
    if question:
        return "question_too_long" if all(error.validator == "maxLength" for error in question) else "invalid_question"
    return "invalid_chat_id"


_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),  # no lone surrogates: JSON Schema cannot state the chat_id rule on them
)
_JSON = st.recursive(_JSON_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner))
_QUESTIONS = st.one_of(
    st.text(max_size=40),
    st.integers(MAX_QUESTION_CHARS - 2, MAX_QUESTION_CHARS + 2).map(lambda n: "企" * n),
    _JSON,
)
_CHAT_IDS = st.one_of(
    st.integers(-(2**64), 2**64),
    st.integers(-(2**53), 2**53).map(float),  # 12.0: an integer to JSON Schema, and so to the API
    st.integers(MAX_CHAT_ID_CHARS - 2, MAX_CHAT_ID_CHARS + 2).map(lambda n: "u" * n),
    _JSON,
)
_ASK_BODIES = st.one_of(
    st.fixed_dictionaries({}, optional={"question": _QUESTIONS, "chat_id": _CHAT_IDS, "lang": _JSON}),
    _JSON,
)


@pytest.fixture(scope="module")
def ask_schema(api: Running) -> Draft202012Validator:
    """Return a validator of the served document's AskRequest schema (its $refs resolving in the document)."""
    doc = api.client.get("/openapi.json").json()
    return Draft202012Validator({**doc["components"]["schemas"]["AskRequest"], "components": doc["components"]})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_ASK_BODIES)
def test_a_body_is_accepted_exactly_when_the_document_says_so(
    api: Running, ask_schema: Draft202012Validator, body: Any
) -> None:
    encoded = json.dumps(body, ensure_ascii=False).encode()
    response = api.client.post("/v1/ask", content=encoded)
    if len(encoded) > MAX_BODY_BYTES:  # the documented body limit comes before the schema
        assert (response.status_code, response.json()["error"]) == (413, "body_too_large")
        return
    expected = _documented_code(ask_schema, body)
    if expected is None:
        assert response.status_code == 200, response.text
    else:
        assert (response.status_code, response.json()["error"]) == (400, expected), body
