"""The Programme Board report and the Home Office table, against counts worked out by hand on a fixture that spans
states, types, quarters and the edges of the period; each period counted by the Home Office scheme in force then
(pre-2025 before April 2024, PCMT 2025 from then); and Governance's view, in which no count from 1 to 4 is shown or can
be worked out from totals and other figures."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.cases import actions
from app.cases import use_cases as cases
from app.cases.statistics_schemes import PCMT_2025, PRE_2025
from app.extensions import db
from app.governance import reports, suppression
from app.kernel.uow import unit_of_work
from app.models import Case, CaseEntry, CaseStatus, ConcernType
from tests.conftest import concern_payload, user

START, END = date(2019, 4, 1), date(2020, 3, 31)  # financial year 2019/20: no other test has cases in it
WITHHELD = reports.WITHHELD


def step(case_id: int, event: str, **data) -> None:
    cases.transition(user("lead"), case_id, {"event": event, "reason": f"Reason for {event}", **data})


def backdate(case_id: int, recorded: str, decided_after_days: float | None = None, type_id: int | None = None) -> None:
    """Moves a fixture case back in time (the services stamp "now"): when it was recorded and first decided; and, for a
    case from before a type was retired, codes it with that type (new concerns are no longer offered it)."""
    recorded_at = datetime.fromisoformat(recorded).replace(tzinfo=UTC)
    with unit_of_work() as session:
        values: dict = {"recorded_at": recorded_at} | ({"concern_type_id": type_id} if type_id else {})
        session.execute(sa.update(Case).where(Case.id == case_id).values(**values))
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

        # Around the change of scheme (1 April 2024): a concern coded with a type the PCMT replaced (retired, so
        # raised with another and then coded as it was then), one with a PCMT type before April 2024, and two after.
        no_ideology, mixed = types["No ideology identified"], types["Mixed, Unclear or Unstable"]
        old_coded = raise_(islamist)
        step(old_coded, "acknowledge")
        step(old_coded, "refer_to_police", referral_date="2024-05-20", subject_informed="yes")
        backdate(old_coded, "2024-05-10T09:00", decided_after_days=1, type_id=mixed)
        early_pcmt = raise_(no_ideology)
        step(early_pcmt, "acknowledge")
        step(early_pcmt, "refer_to_police", referral_date="2024-02-01", subject_informed="no")
        backdate(early_pcmt, "2024-01-20T09:00", decided_after_days=1)
        backdate(raise_(no_ideology, programme="Level 2 Care"), "2024-06-01T09:00")
        backdate(raise_(islamist), "2024-06-02T09:00")

        # The leak, in financial year 2021/22: 6 concerns, 5 about learners and 1 about a colleague.
        for n in range(5):
            backdate(raise_(islamist, programme="Level 3 Business"), f"2021-05-{10 + n}T09:00")
        backdate(raise_(right_wing, subject_type="staff", programme="Level 3 Business"), "2021-06-01T09:00")
        db.session.remove()


def test_every_figure_matches_the_hand_count(fixture_cases, ctx):
    report = reports.board_report(db.session, user("lead"), START, END)
    assert report.concerns == 4
    assert report.by_type == [reports.SchemeCount(PRE_2025, START, END, 4, {
        "Extreme Right-Wing": 1, "Islamist": 2, "Not stated": 1})]
    assert report.by_subject_type == {"learner": 2, "public": 1, "staff": 1}
    assert report.by_programme == {"Level 3 Business": 2, "Not stated": 2}
    assert report.outcomes == {"no_further_action": 1, "internal_safeguarding": 0, "signposted": 0,
                               "referred_to_police": 2, "awaiting_decision": 1, "discussed_at_channel_panel": 1,
                               "adopted": 1, "onward_support": 0, "support_completed": 0}
    assert report.police_outcomes == {"channel": 1, "police_no_further_action": 1}
    assert report.days_to_first_decision == {"median": 2.0, "p90": 5.0}
    assert (report.overdue_actions, report.repeat_referrals, report.stalled) == (1, 0, 0)
    assert set(report.extras) == {
        "staff_with_current_prevent_training", "staff_without_current_prevent_training", "active_staff",
        "training_compliance_percent", "employers_aware_in_last_12_months", "employers_not_aware_in_last_12_months",
        "active_employers", "employer_coverage_percent"}


def test_the_home_office_table_counts_by_quarter_and_type(fixture_cases, ctx):
    [table] = reports.board_report(db.session, user("lead"), START, END).home_office
    assert table.scheme == PRE_2025
    assert table.quarters == ["2019/20 Q1", "2019/20 Q2", "2019/20 Q3", "2019/20 Q4"]
    rows = dict(table.rows)
    assert rows["Islamist"] == [(1, 0, 0), (0, 1, 1), (1, 0, 0), (0, 0, 0)]
    assert rows["Extreme Right-Wing"] == [(1, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0)]
    assert rows["Incel"] == [(0, 0, 0)] * 4
    assert table.totals == [(2, 0, 0), (0, 1, 1), (1, 0, 0), (0, 0, 0)]


def test_governance_sees_small_counts_withheld(fixture_cases, api, web):
    result = api("governance").get("/api/v1/report/board?from=2019-04-01&to=2020-03-31").get_json()["result"]
    assert result["concerns"] == WITHHELD
    assert result["by_type"][0]["by_category"] == {"Extreme Right-Wing": WITHHELD, "Islamist": WITHHELD,
                                                   "Not stated": WITHHELD}
    assert result["outcomes"]["internal_safeguarding"] == 0 and result["outcomes"]["adopted"] == WITHHELD
    assert api("lead").get("/api/v1/report/board?from=2019-04-01&to=2020-03-31").get_json()["result"]["concerns"] == 4
    page = web("governance").get("/reports/board?from=2019-04-01&to=2020-03-31").get_data(as_text=True)
    assert "withheld" in page and "Report Person" not in page and "PC-" not in page
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
    assert ["Concerns", "raised", WITHHELD] in lines
    assert ["Home Office table 2019/20 Q2 (pre-2025 categories)", "Islamist: adopted", WITHHELD] in lines
    pdf = web("lead").get("/reports/board?from=2019-04-01&to=2020-03-31&format=pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Programme Board report" in text and "Islamist: adopted" in text and "Report Person" not in text


def test_the_chart_draws_only_types_with_concerns_and_at_most_the_largest_fifteen():
    """Hundreds of types (the reference data grows) must not make a chart nobody can read, nor take seconds."""
    from app.kernel.charts import MAX_BARS, drawn_bars
    values = {f"Type {n}": n % 7 for n in range(200)} | {"Small": WITHHELD}
    bars = drawn_bars(values)
    assert len(bars) == MAX_BARS and 0 not in bars.values()
    assert min(bars.values(), key=lambda v: v if isinstance(v, int) else 0) == 6  # the largest, in the given order
    assert list(bars) == [label for label in values if label in bars]
    assert drawn_bars({"A": 0, "B": WITHHELD, "C": 3}) == {"B": WITHHELD, "C": 3}


# --- schemes: each period by the Home Office categories in force then ---------------------------------------------

def test_a_period_before_april_2024_counts_by_the_old_categories(fixture_cases, ctx):
    report = reports.board_report(db.session, user("lead"), date(2023, 4, 1), date(2024, 3, 31))
    # A concern coded with a PCMT type in January 2024 is counted by its pre-2025 category.
    assert report.by_type == [reports.SchemeCount(PRE_2025, date(2023, 4, 1), date(2024, 3, 31), 1,
                                                  {"No identified ideology": 1})]
    [table] = report.home_office
    assert table.scheme == PRE_2025 and "Mixed, Unclear or Unstable" in dict(table.rows)
    assert dict(table.rows)["No identified ideology"][-1] == (1, 0, 0)  # referred 1 February 2024: 2023/24 Q4


def test_a_period_from_april_2024_counts_by_the_pcmt_2025_categories(fixture_cases, ctx):
    report = reports.board_report(db.session, user("lead"), date(2024, 4, 1), date(2025, 3, 31))
    # The concern coded "Mixed, Unclear or Unstable" (retired) counts as the PCMT category its type maps to.
    assert report.by_type == [reports.SchemeCount(PCMT_2025, date(2024, 4, 1), date(2025, 3, 31), 3,
                                                  {"Islamist": 1, "No ideology identified": 2})]
    [table] = report.home_office
    rows = dict(table.rows)
    assert table.scheme == PCMT_2025 and "Mixed, Unclear or Unstable" not in rows
    assert "No ideology - other susceptibility to radicalisation identified" in rows
    assert rows["No ideology identified"][0] == (1, 0, 0) and table.totals[0] == (1, 0, 0)


def test_a_period_spanning_both_says_both(fixture_cases, ctx, web):
    report = reports.board_report(db.session, user("lead"), date(2024, 1, 1), date(2024, 6, 30))
    assert report.concerns == 4
    assert report.by_type == [
        reports.SchemeCount(PRE_2025, date(2024, 1, 1), date(2024, 3, 31), 1, {"No identified ideology": 1}),
        reports.SchemeCount(PCMT_2025, date(2024, 4, 1), date(2024, 6, 30), 3,
                            {"Islamist": 1, "No ideology identified": 2})]
    assert [(t.scheme, t.quarters) for t in report.home_office] == [(PRE_2025, ["2023/24 Q4"]),
                                                                    (PCMT_2025, ["2024/25 Q1"])]
    assert reports.chart_values(report) == {"No identified ideology (pre-2025)": 1, "Islamist (PCMT 2025)": 1,
                                            "No ideology identified (PCMT 2025)": 2}
    page = web("lead").get("/reports/board?from=2024-01-01&to=2024-06-30").get_data(as_text=True)
    assert "By type of concern: pre-2025 categories" in page and "By type of concern: PCMT 2025 categories" in page
    assert "Type of concern (pre-2025)" in page and "Type of concern (PCMT 2025)" in page
    import csv
    import io
    csv_file = web("lead").get("/reports/board?from=2024-01-01&to=2024-06-30&format=csv")
    lines = list(csv.reader(io.StringIO(csv_file.data.decode("utf-8-sig"))))
    section = "By type of concern ({} categories, {})"
    assert [section.format(PRE_2025, "2024-01-01 to 2024-03-31"), "No identified ideology", "1"] in lines
    assert [section.format(PCMT_2025, "2024-04-01 to 2024-06-30"), "No ideology identified", "2"] in lines
    assert ["Home Office table 2024/25 Q1 (PCMT 2025 categories)", "No ideology identified: referred", "1"] in lines


def test_new_concerns_are_offered_the_current_types_and_old_cases_keep_theirs(fixture_cases, api, ctx):
    offered = {t["label"] for t in api("staff").get("/api/v1/reference/concern_types").get_json()["result"]}
    assert {"Islamist", "No ideology identified", "No ideology - other susceptibility to radicalisation identified",
            "Fascination with extreme violence or mass casualty attacks (where no other ideology)"} <= offered
    assert not offered & {"Mixed, Unclear or Unstable", "No identified ideology", "School massacre"}
    mixed = db.session.scalar(sa.select(ConcernType).where(ConcernType.label == "Mixed, Unclear or Unstable"))
    refused = api("staff").post("/api/v1/case/", json=concern_payload(concern_type_id=mixed.id))
    assert refused.status_code == 422
    old = db.session.scalar(sa.select(Case).where(Case.concern_type_id == mixed.id))
    assert old is not None and old.concern_type.label == "Mixed, Unclear or Unstable"
    # One concern, coded both ways: the type maps to a category of each scheme.
    assert (mixed.pre_2025_category.label, mixed.pcmt_2025_category.label) == (
        "Mixed, Unclear or Unstable", "No ideology identified")


# --- no suppressed count can be derived ----------------------------------------------------------------------------

def groups_shown(result: dict) -> list[tuple[object, list[object]]]:
    """Every total the report shows with the parts that add up to it, read from what the reader receives."""
    concerns = result["concerns"]
    groups = [(concerns, [part["concerns"] for part in result["by_type"]]),
              (concerns, list(result["by_subject_type"].values())),
              (concerns, list(result["by_programme"].values())),
              (concerns, [result["outcomes"][key] for key in reports.DECISIONS]),
              (result["outcomes"]["referred_to_police"], list(result["police_outcomes"].values()))]
    groups += [(part["concerns"], list(part["by_category"].values())) for part in result["by_type"]]
    for table in result["home_office"]:
        for column, total in enumerate(table["totals"]):
            for measure in range(3):
                groups.append((total[measure], [cells[column][measure] for _, cells in table["rows"]]))
    extras = result["extras"]
    groups += [(extras["active_staff"], [extras["staff_with_current_prevent_training"],
                                         extras["staff_without_current_prevent_training"]]),
               (extras["active_employers"], [extras["employers_aware_in_last_12_months"],
                                             extras["employers_not_aware_in_last_12_months"]])]
    return groups


def differences_tried(result: dict) -> list[str]:
    """What a reader could work out: a figure from 1 to 4 shown, or one left over from a total and its other parts."""
    found = []
    for total, parts in groups_shown(result):
        figures = [total, *parts]
        found += [f"{n} shown in {total}: {parts}" for n in figures if isinstance(n, int) and 1 <= n <= 4]
        hidden = [n for n in figures if not isinstance(n, int)]
        if len(hidden) == 1:  # the total less the other parts, or the parts added up
            known = sum(n for n in parts if isinstance(n, int))
            left = total - known if isinstance(total, int) else known
            if 1 <= left <= 4:
                found.append(f"{left} worked out from {total}: {parts}")
        elif (hidden and isinstance(total, int) and len(hidden) == len([p for p in parts if not isinstance(p, int)])
              and total - sum(p for p in parts if isinstance(p, int)) == len(hidden)):
            found.append(f"each withheld part must be 1 in {total}: {parts}")
    for name in ("training_compliance_percent", "employer_coverage_percent"):
        counts = ("staff_with_current_prevent_training", "active_staff") if name.startswith("training") else (
            "employers_aware_in_last_12_months", "active_employers")
        if any(result["extras"][key] == WITHHELD for key in counts) and result["extras"][name] != WITHHELD:
            found.append(f"{name} shown beside a withheld count")
    return found


PERIODS = [("2019-04-01", "2020-03-31"), ("2021-04-01", "2022-03-31"), ("2023-04-01", "2024-03-31"),
           ("2024-04-01", "2025-03-31"), ("2024-01-01", "2024-06-30"), ("2015-04-01", "2025-03-31")]


@pytest.mark.parametrize(("start", "end"), PERIODS)
def test_governance_cannot_work_out_a_small_count_by_differences(fixture_cases, api, start, end):
    governance = api("governance").get(f"/api/v1/report/board?from={start}&to={end}").get_json()["result"]
    assert differences_tried(governance) == []
    lead = api("lead").get(f"/api/v1/report/board?from={start}&to={end}").get_json()["result"]
    assert WITHHELD not in str(lead)  # case workers see exact counts
    assert lead["concerns"] == sum(part["concerns"] for part in lead["by_type"])


def test_six_concerns_five_about_learners_no_longer_gives_away_the_colleague(fixture_cases, api):
    query = "/api/v1/report/board?from=2021-04-01&to=2022-03-31"
    lead = api("lead").get(query).get_json()["result"]
    assert (lead["concerns"], lead["by_subject_type"]) == (6, {"learner": 5, "staff": 1})
    governance = api("governance").get(query).get_json()["result"]
    assert governance["by_subject_type"] == {"learner": WITHHELD, "staff": WITHHELD}
    assert governance["concerns"] == 6
    # The same holds through the other groups of the same concerns.
    assert governance["by_type"][0]["by_category"] == {"Extreme Right-Wing": WITHHELD, "Islamist": WITHHELD}
    assert differences_tried(governance) == []


def test_the_one_rule_withholds_enough_and_no_more():
    group = suppression.Group("all", ("learner", "staff", "public"))
    assert suppression.shown({"all": 6, "learner": 5, "staff": 1, "public": 0}, [group]) == {
        "all": 6, "learner": WITHHELD, "staff": WITHHELD, "public": 0}
    # Two withheld parts that could only be 1 each: a third is withheld, the smallest other.
    assert suppression.withheld({"all": 17, "learner": 10, "staff": 1, "public": 1, "x": 5},
                                [suppression.Group("all", ("learner", "staff", "public", "x"))]) == {
        "staff", "public", "x"}
    # Nothing small: nothing withheld.
    assert suppression.withheld({"all": 10, "learner": 5, "staff": 5}, [group]) == set()
    # A total shared by two groups: withheld in one, the other group is made safe in turn.
    cells = {"all": 3, "learner": 3, "staff": 0, "a": 3, "b": 0, "s": 8, "t": 5}
    hidden = suppression.withheld(cells, [suppression.Group("all", ("learner", "staff")),
                                          suppression.Group("s", ("all", "t"))])
    assert hidden == {"all", "learner", "a", "t"}


def test_an_administrator_maps_a_type_to_a_category_of_each_scheme(web, ctx):
    from tests.conftest import csrf_token
    incel = db.session.scalar(sa.select(ConcernType).where(ConcernType.label == "Incel"))
    conflicted = db.session.scalar(sa.select(reports.StatisticsCategory).where(
        reports.StatisticsCategory.scheme == PCMT_2025, reports.StatisticsCategory.label == "Conflicted"))
    admin = web("admin")
    form = admin.get(f"/concerntypeview/edit/{incel.id}").get_data(as_text=True)
    assert "Home Office category (pre-2025)" in form and "Home Office category (PCMT 2025)" in form
    assert "Mixed, Unclear or Unstable (pre-2025)" in form and "Mixed, Unclear or Unstable (PCMT 2025)" not in form
    admin.post(f"/concerntypeview/edit/{incel.id}", data={
        "label": "Incel", "pre_2025_category": str(incel.pre_2025_category_id),
        "pcmt_2025_category": str(conflicted.id), "position": str(incel.position), "active": "y",
        "csrf_token": csrf_token(form)})
    db.session.expire_all()
    assert db.session.get(ConcernType, incel.id).pcmt_2025_category.label == "Conflicted"
    assert web("officer").get(f"/concerntypeview/edit/{incel.id}").status_code in (302, 403)
