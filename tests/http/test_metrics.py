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
