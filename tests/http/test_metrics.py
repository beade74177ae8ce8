"""GET /metrics counts questions by channel and outcome, latency and responses; Telegram's questions too."""

from __future__ import annotations

from http_helpers import ANSWERED, OUT_OF_SCOPE, Running, ServerFactory
from prometheus_client.parser import text_string_to_metric_families


def _samples(api: Running) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_questions_are_counted_by_channel_and_outcome(start_server: ServerFactory) -> None:
    api = start_server()
    before = _samples(api)
    assert before[("hohhot_questions_total", (("channel", "api"),))] == 0
    for question in (ANSWERED, ANSWERED, OUT_OF_SCOPE):
        assert api.client.post("/v1/ask", json={"question": question}).status_code == 200
    api.client.post("/v1/ask", content=b"{")  # refused: not a question
    after = _samples(api)
    assert after[("hohhot_questions_total", (("channel", "api"),))] == 3
    assert after[("hohhot_answers_total", (("channel", "api"), ("outcome", "answer")))] == 2
    assert after[("hohhot_answers_total", (("channel", "api"), ("outcome", "fallback")))] == 1
    assert after[("hohhot_answers_total", (("channel", "api"), ("outcome", "suggest")))] == 0
    assert after[("hohhot_answer_seconds_count", (("channel", "api"),))] == 3
    assert after[("hohhot_answer_seconds_sum", (("channel", "api"),))] > 0
    assert after[("hohhot_http_responses_total", (("route", "/v1/ask"), ("status", "200")))] == 3
    assert after[("hohhot_http_responses_total", (("route", "/v1/ask"), ("status", "400")))] == 1
    assert after[("hohhot_knowledge_entries", ())] == api.service.entry_count


def test_each_app_has_its_own_registry(start_server: ServerFactory) -> None:
    first, second = start_server(), start_server()
    first.client.post("/v1/ask", json={"question": ANSWERED})
    assert _samples(first)[("hohhot_questions_total", (("channel", "api"),))] == 1
    assert _samples(second)[("hohhot_questions_total", (("channel", "api"),))] == 0


def _responses(api: Running) -> dict[tuple[str, str], float]:
    """Return hohhot_http_responses_total by (route, status)."""
    samples = _samples(api)
    return {
        (dict(labels)["route"], dict(labels)["status"]): value
        for (name, labels), value in samples.items()
        if name == "hohhot_http_responses_total"
    }


def test_unknown_paths_and_refusals_are_counted_under_bounded_labels(start_server: ServerFactory) -> None:
    api = start_server(rate_limit_per_minute=3)
    for path in ("/nope", "/v2/ask", "/web/nope", "/x/y/z?q=1", "/entries/1"):
        assert api.client.get(path).status_code == 404
    statuses = [api.client.get(f"/v1/entries/no-such-{i}").status_code for i in range(4)]
    assert statuses == [404, 404, 404, 429]
    assert api.client.get("/v1/no-such-route").status_code == 429  # the guard refuses before routing
    counts = _responses(api)
    assert counts[("unmatched", "404")] == 5
    assert counts[("/v1/entries/{id}", "404")] == 3
    assert counts[("/v1/entries/{id}", "429")] == 1
    assert counts[("unmatched", "429")] == 1
    assert {route for route, _ in counts} <= {"unmatched", "/metrics", "/v1/entries/{id}"}


def test_every_route_is_counted_by_its_template(start_server: ServerFactory) -> None:
    key = "metrics-test-key-5d1e"
    api = start_server(api_keys=(key,))
    assert api.client.get("/v1/entries/x").status_code == 401  # refused by the guard: counted all the same
    assert api.client.get("/v1/ask", headers={"Authorization": f"Bearer {key}"}).status_code == 405
    assert api.client.get("/healthz").status_code == 200
    assert api.client.get("/web/static/app.js").status_code == 200
    assert api.client.delete("/healthz").status_code == 405
    assert api.client.post("/web/ask", json={"question": ANSWERED}).status_code == 403
    counts = _responses(api)
    assert counts[("/v1/entries/{id}", "401")] == 1
    assert counts[("/v1/ask", "405")] == 1
    assert counts[("/healthz", "200")] == 1
    assert counts[("/healthz", "405")] == 1
    assert counts[("/web/static/{name}", "200")] == 1
    assert counts[("/web/ask", "403")] == 1
