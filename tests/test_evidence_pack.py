"""The evidence pack (issue 14, point 7): one PDF of the provider's whole Prevent duty for a period, for the Prevent
Lead and Governance (page and API); each section in it, no name of anyone in a case, small numbers withheld, each
download audited."""
from __future__ import annotations

import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.governance import evidence_pack
from app.models import AuditEvent
from app.risks import use_cases as risks
from tests.conftest import make_case, user
from tests.test_pages import text
from tests.test_referral_form import pdf_text

pytestmark = pytest.mark.usefixtures("ctx")

ROLES = ("staff", "officer", "lead", "director", "governance", "admin")
THIS_YEAR = {"from": date(date.today().year, 1, 1).isoformat(), "to": date.today().isoformat()}


def downloads() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "evidence_pack_pdf"))


@pytest.mark.parametrize("role", ["lead", "governance"])
def test_the_pack_holds_each_section_and_no_name_of_anyone_in_a_case(api, role):
    person, reporter_words = f"Zebedee Quill {uuid.uuid4().hex[:6]}", f"said {uuid.uuid4().hex[:8]}"
    make_case("staff", "under_review", subject={"full_name": person, "subject_type": "learner",
                                                "date_of_birth": "2008-01-02"}, description=reporter_words)
    risk_title = f"Filtering misses new sites {uuid.uuid4().hex[:6]}"
    risks.add_risk(user("lead"), {"area": "it_online_safety", "title": risk_title, "likelihood": 4, "impact": 4,
                                  "controls": "Weekly checks"})
    before = downloads()
    answer = api(role).get("/api/v1/report/evidence_pack", query_string=THIS_YEAR)
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert "evidence-pack" in answer.headers["Content-Disposition"]
    content = pdf_text(answer.data)
    for title, _ in evidence_pack.SECTIONS:
        assert title in content, title
    assert risk_title in content and "OFFICIAL-SENSITIVE" in content
    assert "Concerns · raised" in content
    staff = user("staff")
    for name in (person, reporter_words, f"{staff.first_name} {staff.last_name}"):
        assert name not in content
    assert downloads() == before + 1


def test_small_numbers_are_withheld_in_the_pack_even_for_the_lead():
    for _ in range(2):
        make_case("staff", "under_review")
    today = date.today()
    board = dict(evidence_pack._board(db.session, user("lead"), today, today))
    counts = [value for key, value in board.items()
              if not key.startswith("Time to first decision") and "percent" not in key and value.isdigit()]
    assert board["Concerns · raised"] == "withheld"
    assert counts and all(not 1 <= int(value) <= 4 for value in counts), board


@pytest.mark.parametrize("role", ROLES)
def test_the_lead_and_governance_download_the_pack_and_nobody_else(api, web, role):
    answer = api(role).get("/api/v1/report/evidence_pack", query_string=THIS_YEAR)
    page = web(role).get("/reports/evidence-pack/")
    if role in ("lead", "governance"):
        assert answer.status_code == 200 and page.status_code == 200
        assert "Download the evidence pack" in text(page.get_data(as_text=True))
    else:
        assert answer.status_code == 403
        assert page.status_code in (302, 403)


def test_a_bad_period_is_refused_plainly_on_the_page_and_in_the_api(api, web):
    before = downloads()
    answer = api("lead").get("/api/v1/report/evidence_pack", query_string={"from": "2026-05-01", "to": "2026-04-01"})
    assert answer.status_code == 422 and "to" in answer.get_json()["message"]
    page = web("lead").get("/reports/evidence-pack/", query_string={
        "download": "pdf", "from-day": "31", "from-month": "2", "from-year": "2026",
        "to-day": "1", "to-month": "3", "to-year": "2026"})
    assert page.status_code == 422
    shown = text(page.get_data(as_text=True))
    assert "There is a problem" in shown and "start of the period" in shown
    assert downloads() == before


def test_the_page_downloads_the_pack_for_the_dates_typed(web):
    page = web("lead").get("/reports/evidence-pack/", query_string={
        "download": "pdf", "from-day": "1", "from-month": "4", "from-year": "2025",
        "to-day": "31", "to-month": "3", "to-year": "2026"})
    assert page.status_code == 200 and page.mimetype == "application/pdf"
    assert "2025-04-01-to-2026-03-31" in page.headers["Content-Disposition"]
    assert "1 Apr 2025" in pdf_text(page.data) or "1 April 2025" in pdf_text(page.data)
