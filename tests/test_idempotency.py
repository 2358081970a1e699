"""One submission, one case (finding 6): the concern form sent twice, in sequence or at once, and an API POST sent
again with its Idempotency-Key, raise one case and one set of emails, and the repeat gets the first answer."""
from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.kernel.uow import unit_of_work
from app.models import Case, IdempotencyKey, OutboxEmail, utcnow
from tests.conftest import ApiClient, concern_payload, csrf_token, deliver
from tests.test_pages import uk_local, unique_name

FORM_TOKEN_RE = re.compile(r'name="form_token" value="([0-9a-f]{32})"')


def cases_about(description: str) -> list[Case]:
    db.session.rollback()
    return db.session.scalars(sa.select(Case).where(Case.description == description)).all()


def emails_for(case_ids) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEmail)
                             .where(OutboxEmail.case_id.in_(case_ids)))


def one_set_of_emails(inbox) -> Counter:
    """What the SMTP server received: each recipient once for each subject line."""
    return Counter((message["X-Envelope-To"], message["Subject"]) for message in deliver(inbox))


def at_once(*calls):
    """Runs the calls in threads released together (each request has its own app context and database session)."""
    start = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(n, call):
        start.wait()
        results[n] = call()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


# --- the concern page ---------------------------------------------------------------------------------------------

def concern_form(client) -> dict[str, str]:
    """The concern form as a browser would send it, with its CSRF and one-time tokens."""
    page = client.get("/concerns/new").get_data(as_text=True)
    return {"csrf_token": csrf_token(page), "form_token": FORM_TOKEN_RE.search(page).group(1),
            "subject.full_name": unique_name("Twice Sent"), "subject.subject_type": "learner",
            "subject.date_of_birth": "2008-01-02", "description": unique_name("Sent twice:"),
            "occurred_at": uk_local(), "location": "Library"}


def test_the_concern_form_sent_twice_raises_one_case_and_the_second_goes_to_it(web, inbox):
    staff = web("staff")
    form = concern_form(staff)
    first = staff.post("/concerns/new", data=form)
    second = staff.post("/concerns/new", data=form)  # a double click, or a reload of the answer
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    [case] = cases_about(form["description"])
    assert first.headers["Location"].endswith(f"/concerns/{case.id}/raised")
    assert "already sent" in staff.get(second.headers["Location"]).get_data(as_text=True)
    received = one_set_of_emails(inbox)
    assert received and set(received.values()) == {1}


@pytest.mark.commits  # requests at once, in threads
def test_the_concern_form_sent_twice_at_once_raises_one_case_and_one_set_of_emails(web, inbox):
    first_tab, second_tab = web("staff"), web("staff")
    form = concern_form(first_tab)
    second_form = {**form, "csrf_token": csrf_token(second_tab.get("/concerns/new").get_data(as_text=True))}
    answers = at_once(lambda: first_tab.post("/concerns/new", data=form),
                      lambda: second_tab.post("/concerns/new", data=second_form))
    assert [answer.status_code for answer in answers] == [302, 302]
    [case] = cases_about(form["description"])
    assert {answer.headers["Location"] for answer in answers} <= {f"/concerns/{case.id}/raised", "/concerns/mine"}
    received = one_set_of_emails(inbox)
    assert received and set(received.values()) == {1}


def test_a_concern_form_with_errors_keeps_its_token_for_the_corrected_form(web):
    staff = web("staff")
    form = concern_form(staff)
    refused = staff.post("/concerns/new", data={**form, "occurred_at": ""})
    assert refused.status_code == 422
    assert FORM_TOKEN_RE.search(refused.get_data(as_text=True)).group(1) == form["form_token"]
    assert cases_about(form["description"]) == []
    assert staff.post("/concerns/new", data=form).status_code == 302
    assert len(cases_about(form["description"])) == 1


# --- the API ------------------------------------------------------------------------------------------------------

def post_concern(client: ApiClient, payload, key: str):
    return client.client.post("/api/v1/case/", json=payload,
                              headers={**client._headers(), "Idempotency-Key": key})


def test_an_api_post_sent_again_with_its_key_gets_the_first_answer_and_changes_nothing(api, inbox):
    staff = api("staff")
    payload = concern_payload()
    first = post_concern(staff, payload, "retry-1")
    again = post_concern(staff, payload, "retry-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    [case] = cases_about(payload["description"])
    assert case.id == first.get_json()["id"]
    received = one_set_of_emails(inbox)
    assert received and set(received.values()) == {1}


@pytest.mark.commits  # requests at once, in threads
def test_two_api_posts_with_one_key_at_once_raise_one_case(app, api, inbox):
    token = api("staff").token
    tabs = [ApiClient(app.test_client(), token) for _ in range(2)]
    payload = concern_payload()
    answers = at_once(*[lambda tab=tab: post_concern(tab, payload, "at-once") for tab in tabs])
    [case] = cases_about(payload["description"])
    assert [answer.status_code for answer in answers] == [201, 201]
    assert {answer.get_json()["id"] for answer in answers} == {case.id}
    received = one_set_of_emails(inbox)
    assert received and set(received.values()) == {1}


def test_a_key_used_again_for_a_different_request_is_refused(api):
    staff = api("staff")
    first = concern_payload()
    assert post_concern(staff, first, "reused").status_code == 201
    other = concern_payload()
    refused = post_concern(staff, other, "reused")
    assert refused.status_code == 422
    assert refused.get_json() == {"message": {"Idempotency-Key": [
        "This key was used for a different request. Use a new key for a new request."]}}
    assert cases_about(other["description"]) == []


def test_keys_are_each_users_own(api):
    payload = concern_payload()
    answers = [post_concern(api(name), payload, "same-key") for name in ("staff", "staff2")]
    assert [answer.status_code for answer in answers] == [201, 201]
    assert "Idempotent-Replayed" not in answers[1].headers
    assert len(cases_about(payload["description"])) == 2


def test_a_refused_request_leaves_its_key_free_for_the_corrected_one(api):
    staff = api("staff")
    payload = concern_payload()
    assert post_concern(staff, {**payload, "occurred_at": "yesterday"}, "corrected").status_code == 422
    assert post_concern(staff, payload, "corrected").status_code == 201
    assert len(cases_about(payload["description"])) == 1


def test_a_key_is_forgotten_after_it_expires(app, api):
    staff = api("staff")
    payload = concern_payload()
    assert post_concern(staff, payload, "old-key").status_code == 201
    with unit_of_work() as session:
        session.execute(sa.update(IdempotencyKey).where(IdempotencyKey.key == "old-key").values(
            created_at=utcnow() - timedelta(hours=app.config["IDEMPOTENCY_KEY_HOURS"], minutes=1)))
    again = post_concern(staff, payload, "old-key")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert len(cases_about(payload["description"])) == 2


def test_a_malformed_key_is_refused(api):
    payload = concern_payload()
    assert post_concern(api("staff"), payload, "x" * 256).status_code == 400
    assert cases_about(payload["description"]) == []


def _own_key(view) -> bool:
    while view is not None:  # under the rate limiter's wrapper
        if getattr(view, "idempotent_by_its_own_key", False):
            return True
        view = getattr(view, "__wrapped__", None)
    return False


def test_every_api_post_takes_an_idempotency_key_and_says_so(app, api):
    """Every POST of our API goes through the one place that honours the key. (Flask-AppBuilder's sign-in has no user
    to keep keys for, and its answers are tokens, never to be stored; an endpoint called with no sign-in and
    idempotent by a key of its own, the monitoring alerts by their source's id, is marked so.)"""
    posts = [rule for rule in app.url_map.iter_rules()
             if rule.rule.startswith("/api/v1/") and not rule.rule.startswith("/api/v1/security/")
             and "POST" in rule.methods and not _own_key(app.view_functions[rule.endpoint])]
    assert len(posts) > 10
    assert [rule.rule for rule in posts
            if not getattr(app.view_functions[rule.endpoint], "takes_idempotency_key", False)] == []
    spec = api("admin").get("/api/v1/_openapi").get_json()
    described = {path for path, operations in spec["paths"].items()
                 if any(p["name"] == "Idempotency-Key" for p in operations.get("post", {}).get("parameters", []))}
    assert {re.sub(r"<(?:int:)?(\w+)>", r"{\1}", rule.rule) for rule in posts} <= described
