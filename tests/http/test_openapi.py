"""/openapi.json is a valid OpenAPI 3.1 document, and the real server's responses match it, status by status."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from http_helpers import ANSWERED, OUT_OF_SCOPE, Running, ServerFactory
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from starlette.routing import Route

from bot.admin.routes import is_admin_path
from bot.http import MAX_BODY_BYTES
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


def test_every_route_is_documented(api: Running) -> None:
    doc = api.client.get("/openapi.json").json()
    routes = {
        (r.path, m.lower())
        for r in api.app.routes
        # the chat page's own calls (docs/http-api.md) and the admin console's (docs/curation.md)
        if isinstance(r, Route) and r.path not in WEB_PATHS and not is_admin_path(r.path)
        for m in r.methods or ()
        if m != "HEAD"
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
