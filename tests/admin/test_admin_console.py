"""What the console shows and does, through its JSON calls: the dashboard's figures, the review queue (accept
writes the knowledge base and reloads; invalid results change nothing; dismissals are remembered), the test
view (not recorded), reload, export, and the page's own rules (strict CSP, local assets only)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from admin_helpers import login, posting, record, seed, with_store
from fakes.knowledge import edit_topic
from http_helpers import ServerFactory
from openpyxl import load_workbook

from bot.store import Feedback, Store, Vote, utcnow
from intents import Engine

UNANSWERED = "想在青城开个奶茶铺子快不快"
"""Falls back today (no entry close); an example of business_registration_time once accepted."""
TARGET = "business_registration_time"
CLOSE = "开个小卖部要跑几趟"
"""Falls back with business_registration_one_stop close and well ahead: `kb suggest` proposes it."""


def seeded(data_dir: Path) -> None:
    """Records over three days: answers, a suggestion, fallbacks (a group of three), and two votes."""
    answered = record("企业开办要几天", outcome="answer", intent=TARGET, score=90.0, days_ago=2)
    seed(
        data_dir,
        [
            answered,
            record("企业开办要几天", outcome="answer", intent=TARGET, score=90.0, days_ago=1),
            record("审批", outcome="suggest", days_ago=1),
            record(UNANSWERED),
            record(UNANSWERED),
            record(UNANSWERED, days_ago=1),
            record(CLOSE, score=46.0, candidates=_candidates()),
        ],
    )

    async def vote(store: Store) -> None:
        await store.put_feedback(Feedback(answered.id, "voter-a", Vote.UP, None, "api", utcnow()))
        await store.put_feedback(Feedback(answered.id, "voter-b", Vote.DOWN, "不准确", "api", utcnow()))

    with_store(data_dir, vote)


def _candidates() -> tuple[object, ...]:
    from bot.store import ScoredIntent

    return (ScoredIntent("business_registration_one_stop", 46.0), ScoredIntent("bidding_no_meeting", 33.2))


def test_the_dashboard_counts_days_outcomes_votes_intents_and_unanswered_groups(
    start_admin: ServerFactory, data_dir: Path
) -> None:
    seeded(data_dir)
    server = start_admin()
    login(server)
    data = server.client.get("/admin/api/dashboard?days=7").json()
    assert data["questions"] == 7 and data["answered"] == 2
    assert {o["outcome"]: o["count"] for o in data["outcomes"]} == {"answer": 2, "suggest": 1, "fallback": 4}
    assert data["feedback"] == {"up": 1, "down": 1}
    assert data["top_intents"][0]["intent"] == TARGET and data["top_intents"][0]["count"] == 2
    assert data["unanswered"][0] == {"question": UNANSWERED, "count": 3, "examples": []}
    days = data["per_day"]
    assert len(days) == 8 and [d["count"] for d in days[-3:]] == [1, 3, 3]
    assert sum(d["count"] for d in days) == 7
    assert data["kb"]["entries"] > 100
    assert server.client.get("/admin/api/dashboard?days=13").status_code == 400


def test_the_test_view_answers_explains_and_records_nothing(start_admin: ServerFactory, data_dir: Path) -> None:
    server = start_admin()
    csrf = login(server)
    response = server.client.post("/admin/api/try", json={"question": "企业开办要几天"}, headers=posting(server, csrf))
    assert response.status_code == 200
    data = response.json()
    assert data["outcome"] == "answer" and data["intent"] == TARGET
    assert "0.5个工作日" in data["reply"] and data["source"].startswith("来源：")
    assert data["source"] not in data["reply"]  # shown once, under the reply
    explanation = data["explanation"]
    assert explanation["candidates"][0]["intent"] == TARGET and explanation["decision"]["reason"]
    assert explanation["candidates"][0]["features"]
    assert with_store(data_dir, Store.count_questions) == 0  # not recorded: reports never see it


def test_accepting_a_group_adds_the_question_to_the_entry_and_reloads(
    start_admin: ServerFactory, data_dir: Path, knowledge: Path
) -> None:
    seeded(data_dir)
    server = start_admin(engine_=Engine.load(data_dir=knowledge))
    csrf = login(server)
    before = server.client.get("/admin/api/status").json()["version"]
    assert server.client.post("/v1/ask", json={"question": UNANSWERED}).json()["outcome"] == "fallback"
    items = server.client.get("/admin/api/review").json()["items"]
    group = next(i for i in items if i["kind"] == "group" and i["question"] == UNANSWERED)
    assert group["count"] == 4  # the three seeded and the /v1/ask just now
    body = {"kind": "group", "question": UNANSWERED, "target": TARGET}
    response = server.client.post("/admin/api/review/accept", json=body, headers=posting(server, csrf))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ok"] and result["version"] != before and result["written"] == ["business_registration.yaml"]
    assert UNANSWERED in (knowledge / "topics" / "business_registration.yaml").read_text(encoding="utf-8")
    answer = server.client.post("/v1/ask", json={"question": UNANSWERED}).json()
    assert answer["outcome"] == "answer" and answer["intent"] == TARGET
    items = server.client.get("/admin/api/review").json()["items"]
    assert UNANSWERED not in [i["question"] for i in items if i["kind"] == "group"]  # accepted: off the queue


def test_a_proposal_of_kb_suggest_is_listed_with_its_entry(start_admin: ServerFactory, data_dir: Path) -> None:
    seeded(data_dir)
    server = start_admin()
    login(server)
    items = server.client.get("/admin/api/review").json()["items"]
    proposal = next(i for i in items if i["kind"] == "proposal")
    assert proposal["question"] == CLOSE and proposal["entry"] == "business_registration_one_stop"
    assert "weaker evidence" in proposal["evidence"] and proposal["entry_question"]


def test_an_invalid_result_shows_its_errors_and_the_old_base_keeps_serving(
    start_admin: ServerFactory, data_dir: Path, knowledge: Path
) -> None:
    seeded(data_dir)
    server = start_admin(engine_=Engine.load(data_dir=knowledge))
    csrf = login(server)
    before = server.client.get("/admin/api/status").json()["version"]
    edit_topic(knowledge, "reply:", "replies:")  # someone broke a topic file on disk
    original = (knowledge / "topics" / "business_registration.yaml").read_text(encoding="utf-8")
    body = {"kind": "group", "question": UNANSWERED, "target": TARGET}
    response = server.client.post("/admin/api/review/accept", json=body, headers=posting(server, csrf))
    assert response.status_code == 422
    result = response.json()
    assert not result["ok"] and result["errors"] and result["version"] == before
    assert any("business_registration.yaml" in e for e in result["errors"])
    assert (knowledge / "topics" / "business_registration.yaml").read_text(encoding="utf-8") == original
    reload = server.client.post("/admin/api/reload", json={}, headers=posting(server, csrf))
    assert reload.status_code == 422 and reload.json()["errors"] and reload.json()["version"] == before
    assert server.client.post("/v1/ask", json={"question": "企业开办要几天"}).json()["outcome"] == "answer"
    items = server.client.get("/admin/api/review").json()["items"]
    assert UNANSWERED in [i["question"] for i in items]  # still open: nothing was accepted


def test_accepting_for_an_unknown_entry_is_refused(start_admin: ServerFactory) -> None:
    server = start_admin()
    csrf = login(server)
    body = {"kind": "group", "question": UNANSWERED, "target": "no_such_entry"}
    assert server.client.post("/admin/api/review/accept", json=body, headers=posting(server, csrf)).status_code == 404
    bad = {"kind": "other", "question": UNANSWERED, "target": TARGET}
    assert server.client.post("/admin/api/review/accept", json=bad, headers=posting(server, csrf)).status_code == 400


def test_a_dismissal_is_remembered_across_a_restart(start_admin: ServerFactory, data_dir: Path) -> None:
    seeded(data_dir)
    first = start_admin()
    csrf = login(first)
    body = {"kind": "group", "question": UNANSWERED}
    assert first.client.post("/admin/api/review/dismiss", json=body, headers=posting(first, csrf)).status_code == 200
    second = start_admin()  # another process (or replica) on the same store
    login(second)
    questions = [i["question"] for i in second.client.get("/admin/api/review").json()["items"]]
    assert UNANSWERED not in questions and CLOSE in questions


def test_reload_and_export(start_admin: ServerFactory, knowledge: Path) -> None:
    server = start_admin(engine_=Engine.load(data_dir=knowledge))
    csrf = login(server)
    reload = server.client.post("/admin/api/reload", json={}, headers=posting(server, csrf))
    assert reload.status_code == 200 and reload.json()["ok"] and reload.json()["entries"] > 100
    export = server.client.get("/admin/export.xlsx")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert re.fullmatch(r'attachment; filename="knowledge-[0-9a-f]{12}\.xlsx"', export.headers["content-disposition"])
    book = load_workbook(io.BytesIO(export.content))
    ids = [row[0] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert TARGET in ids and len(ids) == reload.json()["entries"]


def test_every_page_has_a_strict_policy_and_only_local_assets(start_admin: ServerFactory) -> None:
    server = start_admin()
    pages = [server.client.get("/admin/login")]
    login(server)
    pages.append(server.client.get("/admin"))
    for page in pages:
        assert page.status_code == 200
        assert '<html lang="zh-CN">' in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp and page.headers["x-frame-options"] == "DENY"
        assert "<script>" not in page.text and " style=" not in page.text
        for path in re.findall(r'(?:src|href)="([^"#]+)"', page.text):
            assert path.startswith("/admin"), path
            response = server.client.get(path)
            assert response.status_code == 200, path
            if not path.endswith(".min.js"):  # Chart.js names its own site in its licence comment
                text = response.text.replace('xmlns="http://www.w3.org/2000/svg"', "")  # a namespace, not a fetch
                assert "http://" not in text and "https://" not in text, path
    assert server.client.get("/admin/static/../routes.py").status_code == 404


def test_accepting_a_proposal_adds_it_to_its_entry(start_admin: ServerFactory, data_dir: Path, knowledge: Path) -> None:
    seeded(data_dir)
    server = start_admin(engine_=Engine.load(data_dir=knowledge))
    csrf = login(server)
    proposal = next(i for i in server.client.get("/admin/api/review").json()["items"] if i["kind"] == "proposal")
    body = {
        "kind": "proposal",
        "question": proposal["question"],
        "entry": proposal["entry"],
        "target": proposal["entry"],
        "questions": proposal["questions"],
    }
    response = server.client.post("/admin/api/review/accept", json=body, headers=posting(server, csrf))
    assert response.status_code == 200 and response.json()["ok"], response.text
    answer = server.client.post("/v1/ask", json={"question": CLOSE}).json()
    assert answer["outcome"] == "answer" and answer["intent"] == "business_registration_one_stop"
    questions = [i["question"] for i in server.client.get("/admin/api/review").json()["items"]]
    assert CLOSE not in questions  # neither the proposal nor the group its records also make
    assert UNANSWERED in questions
