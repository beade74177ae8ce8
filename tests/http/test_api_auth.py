"""Bearer API keys on /v1 (401 with a challenge otherwise), and per-key rate limits (429 with Retry-After)."""

from __future__ import annotations

import pytest
from http_helpers import ANSWERED, ServerFactory

from bot.http.app import KeyRing

KEY_A = "key-a-7f3c9d2e1b"
KEY_B = "key-b-0a8e6f4d2c"


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("POST", "/v1/ask", {"question": ANSWERED}), ("GET", "/v1/topics", None), ("GET", "/v1/entries/x", None)],
)
def test_v1_needs_a_key_when_keys_are_set(start_server: ServerFactory, method: str, path: str, body: object) -> None:
    api = start_server(api_keys=(KEY_A, KEY_B))
    response = api.client.request(method, path, json=body)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["www-authenticate"] == 'Bearer realm="hohhot-assistant"'


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {KEY_A}x", f"Bearer {KEY_A[:-1]}", "Bearer", f"Basic {KEY_A}", KEY_A, f"Bearer {KEY_A.upper()}"],
)
def test_wrong_or_malformed_keys_are_refused(start_server: ServerFactory, authorization: str) -> None:
    api = start_server(api_keys=(KEY_A,))
    response = api.client.post("/v1/ask", json={"question": ANSWERED}, headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="hohhot-assistant", error="invalid_token"'


def test_every_configured_key_works(start_server: ServerFactory) -> None:
    api = start_server(api_keys=(KEY_A, KEY_B))
    for key in (KEY_A, KEY_B):
        assert api.client.post("/v1/ask", json={"question": ANSWERED}, headers=_bearer(key)).status_code == 200
        assert api.client.get("/v1/topics", headers=_bearer(key)).status_code == 200
    assert api.client.post("/v1/ask", json={"question": ANSWERED}, headers={"authorization": f"bearer {KEY_A}"})


def test_health_metrics_and_openapi_stay_open(start_server: ServerFactory) -> None:
    api = start_server(api_keys=(KEY_A,))
    for path in ("/healthz", "/metrics", "/openapi.json"):
        assert api.client.get(path).status_code == 200


def test_key_ring_identifies_keys() -> None:
    ring = KeyRing([KEY_A, KEY_B])
    assert ring.identify(f"Bearer {KEY_B}") == 1
    assert ring.identify(f"Bearer  {KEY_A} ") == 0
    assert ring.identify("Bearer \udcff") is None
    assert ring.identify(None) is None
    assert not KeyRing([]).enabled


def test_rate_limit_is_429_with_retry_after(start_server: ServerFactory) -> None:
    api = start_server(rate_limit_per_minute=3)
    statuses = [api.client.post("/v1/ask", json={"question": ANSWERED}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api.client.get("/v1/topics")
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["retry-after"] in limited.json()["message"]
    assert api.client.get("/healthz").status_code == 200  # health checks are never limited


def test_rate_limit_is_per_key(start_server: ServerFactory) -> None:
    api = start_server(api_keys=(KEY_A, KEY_B), rate_limit_per_minute=2)
    ask = {"question": ANSWERED}
    assert [api.client.post("/v1/ask", json=ask, headers=_bearer(KEY_A)).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert api.client.post("/v1/ask", json=ask, headers=_bearer(KEY_B)).status_code == 200


def test_key_guessing_is_rate_limited_per_address(start_server: ServerFactory) -> None:
    api = start_server(api_keys=(KEY_A,), rate_limit_per_minute=2)
    statuses = [api.client.get("/v1/topics", headers=_bearer(f"guess-{i}")).status_code for i in range(3)]
    assert statuses == [401, 401, 429]
    assert api.client.get("/v1/topics", headers=_bearer(KEY_A)).status_code == 200
