"""The Programme Board report for a period, and the table in the Home Office's shape. Figures only: no names, no
references, no free text. For readers without access to case records (Governance), counts from 1 to 4 are shown as
"fewer than 5" so that nobody can be singled out."""
from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, selectinload

from app.cases.use_cases import repeat_referral_clause
from app.employers import use_cases as employers
from app.governance.oversight import Export
from app.governance.schemas import EXPORT_FORMATS, PERIOD
from app.kernel import exports, formats
from app.kernel.errors import Forbidden
from app.kernel.security import can
from app.models import (
    ActionStatus,
    Case,
    CaseAction,
    CaseEntry,
    CaseStatus,
    ClosureOutcome,
    ConcernType,
    stalled_clause,
    utcnow,
)
from app.training import use_cases as training

FEWER_THAN_5 = "fewer than 5"
Figure = int | str
NOT_STATED = "Not stated"


@dataclass
class BoardReport:
    start: date
    end: date
    concerns: Figure
    by_type: dict[str, Figure]
    by_subject_type: dict[str, Figure]
    by_programme: dict[str, Figure]
    outcomes: dict[str, Figure]
    police_outcomes: dict[str, Figure]
    days_to_first_decision: dict[str, float | None]
    overdue_actions: Figure
    repeat_referrals: Figure
    stalled: Figure
    home_office: HomeOfficeTable
    extras: dict[str, Any] = field(default_factory=dict)  # training compliance, employer coverage


@dataclass
class HomeOfficeTable:
    """Laid out like the Home Office's "Individuals referred to and supported through the Prevent Programme":
    for each type of concern and quarter, referrals, then those discussed at a Channel panel, then adopted."""

    quarters: list[str]
    rows: list[tuple[str, list[tuple[Figure, Figure, Figure]]]]
    totals: list[tuple[Figure, Figure, Figure]]


LONGEST_PERIOD_YEARS = 10


def period(payload: dict) -> tuple[date, date]:
    form = PERIOD.read(payload)
    start, end = form["from"], form["to"]
    if start and end and end < start:
        form.error("to", "The end of the period must not be before its start.")
    elif start and end and (end - start).days > LONGEST_PERIOD_YEARS * 366:
        # A column per quarter: a period of centuries would take the server minutes to lay out.
        form.error("to", f"Choose a period of at most {LONGEST_PERIOD_YEARS} years.")
    form.check()
    return start, end


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (datetime.combine(start, time.min, tzinfo=UTC),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC))


def quarter_of(day: date) -> str:
    """The Home Office counts in financial years, April to March: 2026-05-01 is in "2026/27 Q1"."""
    year = day.year if day.month >= 4 else day.year - 1
    return f"{year}/{str(year + 1)[-2:]} Q{((day.month - 4) % 12) // 3 + 1}"


def _quarters(start: date, end: date) -> list[str]:
    seen: list[str] = []
    day = start
    while day <= end:
        if quarter_of(day) not in seen:
            seen.append(quarter_of(day))
        day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    if quarter_of(end) not in seen:
        seen.append(quarter_of(end))
    return seen


def _first_decision_days(session: Session, cases: Sequence[Case]) -> list[float]:
    """Days from the concern being recorded to the first decision on it: its close or its referral to police."""
    if not cases:
        return []
    first = {case_id: at for case_id, at in session.execute(
        sa.select(CaseEntry.case_id, sa.func.min(CaseEntry.at))
        .where(CaseEntry.case_id.in_([c.id for c in cases]), CaseEntry.kind == "transition",
               CaseEntry.from_status == CaseStatus.under_review.value)
        .group_by(CaseEntry.case_id))}
    days = []
    for case in cases:
        decided = first.get(case.id)
        if decided is not None:
            decided = decided if decided.tzinfo else decided.replace(tzinfo=UTC)
            days.append(round((decided - case.recorded_at).total_seconds() / 86400, 1))
    return days


def _percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile: a value that happened, which a Board member can check against the cases."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))  # ceil without floats drifting
    return ordered[int(rank) - 1]


def suppresses_small_counts(actor) -> bool:
    """Case workers see exact counts; readers of figures only (Governance) see counts from 1 to 4 suppressed."""
    return not can(actor, "can_read_all")


def board_report(session: Session, actor, start: date, end: date, today: date | None = None) -> BoardReport:
    if not can(actor, "can_read", "BoardReport"):
        raise Forbidden()
    shown = suppress if suppresses_small_counts(actor) else (lambda n: n)
    today = today or date.today()
    low, high = _bounds(start, end)
    cases = session.scalars(sa.select(Case).where(Case.recorded_at >= low, Case.recorded_at < high)
                            .options(selectinload(Case.subject), selectinload(Case.concern_type))).all()
    ids = [c.id for c in cases]

    def counted(values) -> dict[str, Figure]:
        return {key: shown(n) for key, n in sorted(Counter(values).items())}

    outcomes: Counter[str] = Counter()
    for case in cases:
        if case.closure_outcome in (ClosureOutcome.no_further_action, ClosureOutcome.internal_safeguarding,
                                    ClosureOutcome.signposted) and case.referral_date is None:
            outcomes[case.closure_outcome.value] += 1
        if case.referral_date is not None:
            outcomes["referred_to_police"] += 1
        if case.panel_date is not None:
            outcomes["discussed_at_channel_panel"] += 1
        if case.panel_decision == "adopted":
            outcomes["adopted"] += 1
        if case.closure_outcome in (ClosureOutcome.onward_support, ClosureOutcome.support_completed):
            outcomes[case.closure_outcome.value] += 1
    days = _first_decision_days(session, cases)
    in_period = Case.id.in_(ids) if ids else sa.false()
    return BoardReport(
        start=start, end=end, concerns=shown(len(cases)),
        by_type=counted(c.concern_type.label if c.concern_type else NOT_STATED for c in cases),
        by_subject_type=counted(c.subject.subject_type.value for c in cases),
        by_programme=counted(c.subject.programme or NOT_STATED for c in cases),
        outcomes={key: shown(outcomes[key]) for key in (
            "no_further_action", "internal_safeguarding", "signposted", "referred_to_police",
            "discussed_at_channel_panel", "adopted", "onward_support", "support_completed")},
        police_outcomes=counted(c.gateway_outcome for c in cases if c.gateway_outcome),
        days_to_first_decision={"median": statistics.median(days) if days else None,
                                "p90": _percentile(days, 0.9)},
        overdue_actions=shown(session.scalar(
            sa.select(sa.func.count()).select_from(CaseAction).join(Case).where(
                in_period, CaseAction.status == ActionStatus.open, CaseAction.due_date < today)) or 0),
        repeat_referrals=shown(session.scalar(
            sa.select(sa.func.count()).select_from(Case).where(in_period, repeat_referral_clause())) or 0),
        stalled=shown(session.scalar(sa.select(sa.func.count()).select_from(Case).where(
            in_period, stalled_clause(utcnow(), current_app.config["STALLED_AFTER_DAYS"]))) or 0),
        home_office=home_office_table(session, start, end, shown),
        extras=_organisation_figures(session, actor, min(end, today), shown),
    )


def _organisation_figures(session: Session, actor, as_of: date, shown) -> dict[str, Any]:
    """Staff training compliance and employer awareness coverage, as of the end of the period (or today)."""
    trained = training.compliance(session, actor, as_of).overall
    covered = employers.coverage(session, actor, as_of).overall
    return {"staff_with_current_prevent_training": shown(trained.current), "active_staff": shown(trained.active),
            "training_compliance_percent": trained.percent,
            "employers_aware_in_last_12_months": shown(covered.covered), "active_employers": shown(covered.active),
            "employer_coverage_percent": covered.percent}


def home_office_table(session: Session, start: date, end: date, shown) -> HomeOfficeTable:
    """Referrals by the date they were sent to the police; Channel discussion by panel date; adoption likewise."""
    quarters = _quarters(start, end)
    types = session.scalars(sa.select(ConcernType).order_by(ConcernType.position, ConcernType.id)).all()
    cases = session.scalars(sa.select(Case).where(
        sa.or_(Case.referral_date.between(start, end), Case.panel_date.between(start, end)))).all()
    grid: dict[tuple[int | None, str], list[int]] = {}
    for case in cases:
        if case.referral_date and start <= case.referral_date <= end:
            grid.setdefault((case.concern_type_id, quarter_of(case.referral_date)), [0, 0, 0])[0] += 1
        if case.panel_date and start <= case.panel_date <= end:
            cell = grid.setdefault((case.concern_type_id, quarter_of(case.panel_date)), [0, 0, 0])
            cell[1] += 1
            if case.panel_decision == "adopted":
                cell[2] += 1
    labels = [(t.id, t.label) for t in types] + [(None, NOT_STATED)]
    rows, totals = [], [[0, 0, 0] for _ in quarters]
    for type_id, label in labels:
        cells = [grid.get((type_id, q), [0, 0, 0]) for q in quarters]
        for total, cell in zip(totals, cells, strict=True):
            for i in range(3):
                total[i] += cell[i]
        rows.append((label, [tuple(shown(n) for n in cell) for cell in cells]))
    return HomeOfficeTable(quarters, rows, [tuple(shown(n) for n in total) for total in totals])


def suppress(count: int) -> Figure:
    return FEWER_THAN_5 if 1 <= count <= 4 else count



def report_period_or_default(args: dict) -> tuple[date, date]:
    """The period asked for, or the current financial year to date."""
    if args.get("from") or args.get("to"):
        return period(args)
    today = date.today()
    return date(today.year if today.month >= 4 else today.year - 1, 4, 1), today


def report_file(report: BoardReport, fmt: str) -> Export:
    name = f"board-report-{report.start.isoformat()}-to-{report.end.isoformat()}.{fmt}"
    if fmt == "csv":
        return Export(name, EXPORT_FORMATS["csv"], exports.report_csv(report))
    note = f"Prepared {formats.uk_datetime(utcnow())}. Figures only: no names, no references, no free text."
    return Export(name, EXPORT_FORMATS["pdf"], exports.report_pdf(report, note))
