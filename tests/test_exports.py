"""Exports of a case's chronology: PDF (read back as text) and CSV, with staff names redacted on request; every
export audited and logged."""
from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from pypdf import PdfReader

from app.extensions import db
from app.models import AccessLogEntry, AuditEvent
from tests.conftest import make_case

STAFF_NAMES = ("Officer Tester", "Staff Tester", "Lead Tester")  # conftest's users: first name, last name


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_opens_and_holds_the_whole_chronology(api, ctx):
    case_id = make_case("staff", state="referred_to_police", subject={"full_name": "Zoë Ahmed-Łukasik",
                                                                     "subject_type": "learner"})
    response = api("lead").get(f"/api/v1/case/{case_id}/export?format=pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    for expected in ("Reason for acknowledge", "Reason for refer_to_police", "Zoë Ahmed-Łukasik", "Officer Tester",
                     "Staff Tester", "referred_to_police"):
        assert expected in text, expected


def test_redaction_replaces_every_staff_name_and_keeps_the_story(api, ctx):
    case_id = make_case("staff", state="under_review", description="Said something worrying")
    text = pdf_text(api("officer").get(f"/api/v1/case/{case_id}/export?format=pdf&redact_staff=true").data)
    assert not [name for name in STAFF_NAMES if name in text]
    assert "Staff member 1" in text and "Reason for acknowledge" in text
    rows = list(csv.reader(io.StringIO(
        api("officer").get(f"/api/v1/case/{case_id}/export?format=csv&redact_staff=true").data.decode("utf-8-sig"))))
    assert rows[0] == ["at", "kind", "by", "summary", "from_status", "to_status", "reason", "details"]
    assert [row[6] for row in rows if row[1] == "transition"] == ["Reason for acknowledge"]
    assert not [name for name in STAFF_NAMES for row in rows for cell in row if name in cell]


def test_every_export_is_audited_and_logged(api, ctx):
    case_id = make_case("staff")
    api("officer").get(f"/api/v1/case/{case_id}/export?format=csv&redact_staff=true")
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                           AuditEvent.action == "export_csv")).one()
    assert event.actor == "officer" and event.changes["redact_staff"]["new"] is True
    logged = db.session.scalars(sa.select(AccessLogEntry).where(AccessLogEntry.case_id == case_id,
                                                                AccessLogEntry.channel == "export")).all()
    assert [(e.user.username, e.what) for e in logged] == [("officer", "export_csv")]


def test_exports_follow_the_case_rules(api, web, ctx):
    case_id = make_case("staff")
    assert api("staff").get(f"/api/v1/case/{case_id}/export?format=pdf").status_code == 403
    assert api("governance").get(f"/api/v1/case/{case_id}/export?format=pdf").status_code == 403
    assert api("officer").get("/api/v1/case/987654321/export?format=pdf").status_code == 404
    assert api("officer").get(f"/api/v1/case/{case_id}/export?format=docx").status_code == 422
    restricted = make_case("staff", subject={"full_name": "A Colleague", "subject_type": "staff"})
    assert api("officer").get(f"/api/v1/case/{restricted}/export?format=csv").status_code == 404
    page = web("officer").get(f"/cases/{case_id}/export?format=csv")
    assert page.status_code == 200 and page.mimetype == "text/csv"
