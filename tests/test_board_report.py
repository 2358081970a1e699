"""The Programme Board report and the Home Office table, against counts worked out by hand on a fixture that spans
states, types, quarters and the edges of the period; and Governance's suppressed view."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.cases import actions
from app.cases import use_cases as cases
from app.extensions import db
from app.governance import reports
from app.kernel.uow import unit_of_work
from app.models import Case, CaseEntry, CaseStatus, ConcernType
from tests.conftest import concern_payload, user

START, END = date(2019, 4, 1), date(2020, 3, 31)  # financial year 2019/20: no other test has cases in it
FEWER = reports.FEWER_THAN_5


def step(case_id: int, event: str, **data) -> None:
    cases.transition(user("lead"), case_id, {"event": event, "reason": f"Reason for {event}", **data})


def backdate(case_id: int, recorded: str, decided_after_days: float | None = None) -> None:
    """Moves a fixture case back in time (the services stamp "now"): when it was recorded and first decided."""
    recorded_at = datetime.fromisoformat(recorded).replace(tzinfo=UTC)
    with unit_of_work() as session:
        session.execute(sa.update(Case).where(Case.id == case_id).values(recorded_at=recorded_at))
        if decided_after_days is not None:
            session.execute(sa.update(CaseEntry).where(
                CaseEntry.case_id == case_id, CaseEntry.from_status == CaseStatus.under_review.value)
                .values(at=recorded_at + timedelta(days=decided_after_days)))


# Its records are made once per module, in a transaction of the module's rolled back after its last test (each test
# runs in a SAVEPOINT inside it, rolled back too), and counted: one worker runs the module whole (make test
# distributes by xdist_group), so that they are made once per run.
pytestmark = pytest.mark.xdist_group("test_board_report")


@pytest.fixture(scope="module")
def fixture_cases(app, module_transaction):
    with app.app_context():
        types = {t.label: t.id for t in db.session.scalars(sa.select(ConcernType))}
        islamist, right_wing = types["Islamist"], types["Extreme Right-Wing"]

        def raise_(type_id, subject_type="learner", programme=None):
            return cases.raise_concern(user("staff"), concern_payload(
                concern_type_id=type_id,
                subject={"full_name": f"Report Person {type_id}-{subject_type}-{programme}-{datetime.now()}",
                         "subject_type": subject_type, "programme": programme})).id

        adopted = raise_(islamist, programme="Level 3 Business")
        step(adopted, "acknowledge")
        step(adopted, "refer_to_police", referral_date="2019-05-20", subject_informed="yes")
        step(adopted, "record_gateway_outcome", outcome="channel", decided_on="2019-06-20")
        step(adopted, "schedule_panel", panel_date="2019-07-02", local_authority="A Council")
        step(adopted, "record_panel_decision", decision="adopted", consent="given", consent_by="subject")
        backdate(adopted, "2019-05-10T09:00", decided_after_days=2)

        closed = raise_(right_wing, subject_type="staff")
        step(closed, "acknowledge")
        step(closed, "close", outcome="no_further_action")
        backdate(closed, "2019-06-01T09:00", decided_after_days=1)

        police_nfa = raise_(islamist, programme="Level 3 Business")
        step(police_nfa, "acknowledge")
        step(police_nfa, "refer_to_police", referral_date="2019-10-20", subject_informed="no")
        step(police_nfa, "record_gateway_outcome", outcome="police_no_further_action", decided_on="2019-11-01")
        backdate(police_nfa, "2019-10-15T09:00", decided_after_days=5)

        waiting = raise_(None, subject_type="public")
        actions.add_action(user("officer"), waiting, {"title": "Call", "owner_id": user("officer").id,
                                                      "due_date": "2020-01-10"})
        backdate(waiting, "2020-01-05T09:00")

        after = raise_(islamist)  # recorded the day after the period ends: not counted
        backdate(after, "2020-04-01T00:00")
        before = raise_(right_wing)  # recorded before the period, referred inside it: only in the referral table
        step(before, "acknowledge")
        step(before, "refer_to_police", referral_date="2019-04-02", subject_informed="no")
        backdate(before, "2019-03-31T23:00", decided_after_days=1)
        db.session.remove()


def test_every_figure_matches_the_hand_count(fixture_cases, ctx):
    report = reports.board_report(db.session, user("lead"), START, END)
    assert report.concerns == 4
    assert report.by_type == {"Extreme Right-Wing": 1, "Islamist": 2, "Not stated": 1}
    assert report.by_subject_type == {"learner": 2, "public": 1, "staff": 1}
    assert report.by_programme == {"Level 3 Business": 2, "Not stated": 2}
    assert report.outcomes == {"no_further_action": 1, "internal_safeguarding": 0, "signposted": 0,
                               "referred_to_police": 2, "discussed_at_channel_panel": 1, "adopted": 1,
                               "onward_support": 0, "support_completed": 0}
    assert report.police_outcomes == {"channel": 1, "police_no_further_action": 1}
    assert report.days_to_first_decision == {"median": 2.0, "p90": 5.0}
    assert (report.overdue_actions, report.repeat_referrals, report.stalled) == (1, 0, 0)
    assert set(report.extras) == {"staff_with_current_prevent_training", "active_staff", "training_compliance_percent",
                                  "employers_aware_in_last_12_months", "active_employers", "employer_coverage_percent"}


def test_the_home_office_table_counts_by_quarter_and_type(fixture_cases, ctx):
    table = reports.board_report(db.session, user("lead"), START, END).home_office
    assert table.quarters == ["2019/20 Q1", "2019/20 Q2", "2019/20 Q3", "2019/20 Q4"]
    rows = dict(table.rows)
    assert rows["Islamist"] == [(1, 0, 0), (0, 1, 1), (1, 0, 0), (0, 0, 0)]
    assert rows["Extreme Right-Wing"] == [(1, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0)]
    assert rows["Incel"] == [(0, 0, 0)] * 4
    assert table.totals == [(2, 0, 0), (0, 1, 1), (1, 0, 0), (0, 0, 0)]


def test_governance_sees_small_counts_as_fewer_than_5(fixture_cases, api, web):
    result = api("governance").get("/api/v1/report/board?from=2019-04-01&to=2020-03-31").get_json()["result"]
    assert result["concerns"] == FEWER
    assert result["by_type"] == {"Extreme Right-Wing": FEWER, "Islamist": FEWER, "Not stated": FEWER}
    assert result["outcomes"]["internal_safeguarding"] == 0 and result["outcomes"]["adopted"] == FEWER
    assert api("lead").get("/api/v1/report/board?from=2019-04-01&to=2020-03-31").get_json()["result"]["concerns"] == 4
    page = web("governance").get("/reports/board?from=2019-04-01&to=2020-03-31").get_data(as_text=True)
    assert "fewer than 5" in page and "Report Person" not in page and "PC-" not in page
    assert 'src="data:image/svg+xml;base64,' in page


@pytest.mark.parametrize("query", ["from=2020-01-01&to=2019-01-01", "from=yesterday&to=2020-01-01", "to=2020-01-01"])
def test_a_bad_period_is_refused_plainly(api, ctx, query):
    response = api("lead").get(f"/api/v1/report/board?{query}")
    assert response.status_code == 422 and isinstance(response.get_json()["message"], dict)


def test_only_the_lead_and_governance_read_the_report(api, ctx):
    for username in ("staff", "officer", "director", "admin"):
        assert api(username).get("/api/v1/report/board?from=2019-04-01&to=2020-03-31").status_code == 403


def test_the_report_downloads_as_csv_and_pdf_with_the_same_figures(fixture_cases, web):
    import csv
    import io

    from pypdf import PdfReader
    governance = web("governance")
    csv_file = governance.get("/reports/board?from=2019-04-01&to=2020-03-31&format=csv")
    lines = list(csv.reader(io.StringIO(csv_file.data.decode("utf-8-sig"))))
    assert ["Concerns", "raised", FEWER] in lines
    assert ["Home Office table 2019/20 Q2", "Islamist: adopted", FEWER] in lines
    pdf = web("lead").get("/reports/board?from=2019-04-01&to=2020-03-31&format=pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Programme Board report" in text and "Islamist: adopted" in text and "Report Person" not in text


def test_the_chart_draws_only_types_with_concerns_and_at_most_the_largest_fifteen():
    """Hundreds of types (the reference data grows) must not make a chart nobody can read, nor take seconds."""
    from app.kernel.charts import MAX_BARS, drawn_bars
    values = {f"Type {n}": n % 7 for n in range(200)} | {"Small": FEWER}
    bars = drawn_bars(values)
    assert len(bars) == MAX_BARS and 0 not in bars.values()
    assert min(bars.values(), key=lambda v: v if isinstance(v, int) else 0) == 6  # the largest, in the given order
    assert list(bars) == [label for label in values if label in bars]
    assert drawn_bars({"A": 0, "B": FEWER, "C": 3}) == {"B": FEWER, "C": 3}
