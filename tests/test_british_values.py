"""British values and Learner Voice (issue 14, point 5): Programme Directors and the Prevent Lead log activities
that promote British values (with evidence) and Learner Voice survey results; figures per programme for them and for
Governance (a question fewer than 5 learners answered withheld); other roles neither log nor read."""
from __future__ import annotations

import io
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.british_values import use_cases as values
from app.extensions import db
from app.kernel.errors import Forbidden
from app.models import AuditEvent, BritishValuesActivity, LearnerVoiceSurvey
from tests.conftest import csrf_token, user
from tests.sample_files import PNG
from tests.test_pages import text

pytestmark = pytest.mark.usefixtures("ctx")

ROLES = ("staff", "officer", "lead", "director", "governance", "admin")
LOGGERS = {"director", "lead"}
SUMMARY_READERS = {"director", "lead", "governance"}
TODAY = date.today()


def a_programme() -> str:
    return f"Level 3 Test {uuid.uuid4().hex[:6]}"


def activity(programme: str, **fields: Any) -> dict[str, Any]:
    return {"programme": programme, "held_on": (TODAY - timedelta(days=3)).isoformat(), "value": "democracy",
            "description": "Learners ran a mock election for the learner council", **fields}


def survey(programme: str, **fields: Any) -> dict[str, Any]:
    return {"programme": programme, "period_start": (TODAY - timedelta(days=30)).isoformat(),
            "period_end": (TODAY - timedelta(days=2)).isoformat(), "respondents": 40,
            "feel_safe_agree": 36, "feel_safe_total": 40, "british_values_agree": 30, "british_values_total": 38,
            **fields}


def rows() -> tuple[int, int, int]:
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))  # type: ignore[return-value]
                 for model in (BritishValuesActivity, LearnerVoiceSurvey, AuditEvent))


def programme_figures(client, programme: str) -> dict[str, Any]:
    answer = client.get("/api/v1/british_values/summary")
    assert answer.status_code == 200
    return next(p for p in answer.get_json()["result"]["programmes"] if p["programme"].lower() == programme.lower())


# --- logging, per role ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_programme_directors_and_the_lead_log_activities_and_surveys_and_no_other_role_does(api, role):
    programme = a_programme()
    logged = api(role).post("/api/v1/british_values/activity", json=activity(programme))
    surveyed = api(role).post("/api/v1/learner_voice/", json=survey(programme))
    if role in LOGGERS:
        assert logged.status_code == 201 and surveyed.status_code == 201
        assert logged.get_json()["result"]["value"] == "democracy"
        assert surveyed.get_json()["result"]["questions"]["feel_safe"] == {"agree": 36, "total": 40}
        actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(2)).all()
        assert set(actions) == {"log_british_values_activity", "log_learner_voice_survey"}
    else:
        assert logged.status_code == 403 and surveyed.status_code == 403


def test_signed_out_callers_get_401(api):
    assert api(None).post("/api/v1/british_values/activity", json=activity("x")).status_code == 401
    assert api(None).post("/api/v1/learner_voice/", json=survey("x")).status_code == 401
    assert api(None).get("/api/v1/british_values/summary").status_code == 401


@pytest.mark.parametrize(("change", "fields"), [
    ({"programme": ""}, {"programme"}),
    ({"value": "patriotism"}, {"value"}),
    ({"held_on": (TODAY + timedelta(days=1)).isoformat()}, {"held_on"}),
    ({"description": None, "held_on": "not a date"}, {"description", "held_on"}),
    ({"evidence_ref": "javascript:alert(1)x"}, set()),  # not a link: kept as a reference, never made a link
    ({"evidence_ref": "https://"}, {"evidence_ref"}),
    ({"evidence": "c2VjcmV0"}, {"evidence"}),  # a file comes from the page only
])
def test_a_bad_activity_is_422_naming_each_field_and_stores_nothing(api, change, fields):
    before = rows()
    answer = api("director").post("/api/v1/british_values/activity", json={**activity(a_programme()), **change})
    if not fields:
        assert answer.status_code == 201
        return
    assert answer.status_code == 422
    assert set(answer.get_json()["message"]) == fields
    assert rows() == before


@pytest.mark.parametrize(("change", "fields"), [
    ({"feel_safe_agree": 41}, {"feel_safe_agree"}),  # more agreed than answered
    ({"feel_safe_total": 41, "feel_safe_agree": 1}, {"feel_safe_total"}),  # more answered than took the survey
    ({"british_values_total": None}, {"british_values_total"}),  # agreed without answered
    ({"respondents": 0}, {"respondents"}),
    ({"respondents": "forty"}, {"respondents"}),
    ({"period_start": TODAY.isoformat(), "period_end": (TODAY - timedelta(days=1)).isoformat()}, {"period_end"}),
    ({"feel_safe_agree": None, "feel_safe_total": None, "british_values_agree": None, "british_values_total": None},
     {"feel_safe_total"}),  # no question answered
    ({"feel_safe_agree": -1}, {"feel_safe_agree"}),
])
def test_bad_learner_voice_results_are_422_and_store_nothing(api, change, fields):
    before = rows()
    answer = api("lead").post("/api/v1/learner_voice/", json=survey(a_programme(), **change))
    assert answer.status_code == 422, answer.get_json()
    assert set(answer.get_json()["message"]) == fields
    assert rows() == before


# --- figures per programme --------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_the_summary_is_for_programme_teams_and_governance(api, role):
    assert api(role).get("/api/v1/british_values/summary").status_code == (200 if role in SUMMARY_READERS else 403)


def test_the_summary_counts_each_value_per_programme_and_learner_voice_percentages(api):
    programme = a_programme()
    director = api("director")
    for value in ("democracy", "democracy", "rule_of_law", "mutual_respect"):
        assert director.post("/api/v1/british_values/activity", json=activity(programme, value=value)).status_code \
            == 201
    # the same programme typed with other spaces and case is the same programme
    assert director.post("/api/v1/british_values/activity",
                         json=activity(f"  {programme.upper()} ", value="individual_liberty")).status_code == 201
    old = (TODAY - timedelta(days=800)).isoformat()
    assert director.post("/api/v1/british_values/activity", json=activity(programme, held_on=old)).status_code == 201
    assert director.post("/api/v1/learner_voice/", json=survey(programme)).status_code == 201
    assert director.post("/api/v1/learner_voice/", json=survey(programme, respondents=10, feel_safe_agree=4,
                                                               feel_safe_total=10, british_values_agree=None,
                                                               british_values_total=None)).status_code == 201
    figures = programme_figures(api("lead"), programme)
    assert figures["activities"] == {"democracy": 2, "rule_of_law": 1, "individual_liberty": 1, "mutual_respect": 1}
    assert figures["activity_count"] == 5  # the activity two years ago is outside the last twelve months
    voice = figures["learner_voice"]
    assert voice["surveys"] == 2 and voice["respondents"] == 50
    assert voice["questions"]["feel_safe"] | {"statement": None} == {"statement": None, "agree": 40, "total": 50,
                                                                      "percent": 80.0}
    assert voice["questions"]["british_values"]["percent"] == round(100 * 30 / 38, 1)
    assert voice["questions"]["respected"] == {"statement": voice["questions"]["respected"]["statement"], "agree": 0,
                                               "total": 0, "percent": None}  # not asked
    # a period that holds the old activity only
    answer = api("lead").get("/api/v1/british_values/summary", query_string={"from": old, "to": old})
    [only] = [p for p in answer.get_json()["result"]["programmes"] if p["programme"] == programme]
    assert only["activity_count"] == 1 and only["learner_voice"]["surveys"] == 0


def test_governance_sees_a_question_fewer_than_5_answered_as_withheld(api):
    programme = a_programme()
    assert api("director").post("/api/v1/learner_voice/", json=survey(
        programme, respondents=4, feel_safe_agree=3, feel_safe_total=4, british_values_agree=None,
        british_values_total=None)).status_code == 201
    lead = programme_figures(api("lead"), programme)["learner_voice"]["questions"]["feel_safe"]
    assert (lead["agree"], lead["total"]) == (3, 4)
    governance = programme_figures(api("governance"), programme)["learner_voice"]["questions"]["feel_safe"]
    assert (governance["agree"], governance["total"], governance["percent"]) == ("withheld",) * 3


def test_a_bad_period_is_422(api):
    for query in ({"from": "2026-02-30", "to": "2026-03-01"}, {"from": "2026-03-02", "to": "2026-03-01"},
                  {"from": "2026-01-01"}):
        answer = api("lead").get("/api/v1/british_values/summary", query_string=query)
        assert answer.status_code == 422, query


def test_the_evidence_figures_withhold_small_results_and_carry_no_words():
    programme = a_programme()
    values.log_activity(user("director"), activity(programme, description="Secret words of a session"))
    values.log_survey(user("director"), survey(programme, respondents=3, feel_safe_agree=2, feel_safe_total=3,
                                               british_values_agree=None, british_values_total=None))
    figures = values.evidence(db.session, user("lead"), TODAY - timedelta(days=60), TODAY)
    mine = next(p for p in figures["programmes"] if p["programme"] == programme)
    assert mine["activities"]["democracy"] == 1
    assert mine["learner_voice"]["questions"]["feel_safe"]["percent"] == "withheld"
    assert "Secret words" not in str(figures)
    with pytest.raises(Forbidden):
        values.evidence(db.session, user("officer"), TODAY - timedelta(days=60), TODAY)


# --- pages ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_the_pages_per_role(web, role):
    client = web(role)
    index = client.get("/british_values/")
    assert index.status_code == (200 if role in SUMMARY_READERS else 403)
    if role in SUMMARY_READERS:
        assert ("Activities logged" in text(index.get_data(as_text=True))) is (role in LOGGERS)
    for path in ("/british_values/activity", "/british_values/survey"):
        assert client.get(path).status_code == (200 if role in LOGGERS else 403)


def test_a_director_logs_an_activity_with_evidence_on_the_page_and_downloads_it(web):
    director = web("director")
    programme = a_programme()
    token = csrf_token(director.get("/british_values/activity").get_data(as_text=True))
    refused = director.post("/british_values/activity", data={
        "csrf_token": token, "programme": programme, "held_on": "32/1/2026", "description": "Typed words kept"})
    assert refused.status_code == 422
    shown = text(refused.get_data(as_text=True))
    assert "Choose the British value it promoted" in shown and "must be a real date" in shown
    assert "Typed words kept" in refused.get_data(as_text=True)
    before = rows()
    logged = director.post("/british_values/activity", content_type="multipart/form-data", data={
        "csrf_token": token, "programme": programme, "held_on": (TODAY - timedelta(days=1)).strftime("%d/%m/%Y"),
        "value": "rule_of_law", "description": "A magistrate talked to the group",
        "evidence": (io.BytesIO(PNG), "photo.png")})
    assert logged.status_code == 302 and rows()[0] == before[0] + 1
    saved = db.session.scalar(sa.select(BritishValuesActivity).where(BritishValuesActivity.programme == programme))
    download = director.get(f"/british_values/activity/{saved.id}/evidence")
    assert download.status_code == 200 and download.data == PNG
    assert "attachment" in download.headers["Content-Disposition"]
    assert web("governance").get(f"/british_values/activity/{saved.id}/evidence").status_code == 403
    page = text(director.get("/british_values/").get_data(as_text=True))
    assert programme in page and "A magistrate talked to the group" in page
    governance = text(web("governance").get("/british_values/").get_data(as_text=True))
    assert programme in governance and "A magistrate" not in governance


def test_learner_voice_results_on_the_page(web):
    lead = web("lead")
    programme = a_programme()
    token = csrf_token(lead.get("/british_values/survey").get_data(as_text=True))
    refused = lead.post("/british_values/survey", data={
        "csrf_token": token, "programme": programme, "period_start": "1/9/2026", "period_end": "30/9/2026",
        "respondents": "20", "feel_safe_total": "20", "feel_safe_agree": "25"})
    assert refused.status_code == 422
    assert "More cannot agree than answered the question" in text(refused.get_data(as_text=True))
    assert 'value="25"' in refused.get_data(as_text=True)
    done = lead.post("/british_values/survey", data={
        "csrf_token": token, "programme": programme, "period_start": "1/9/2026", "period_end": "30/9/2026",
        "respondents": "20", "feel_safe_total": "20", "feel_safe_agree": "19"})
    assert done.status_code == 302
    page = text(lead.get("/british_values/?from=1/9/2026&to=30/11/2026").get_data(as_text=True))
    assert programme in page and "95.0%" in page
