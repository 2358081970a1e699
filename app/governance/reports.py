"""The Programme Board report for a period, and the table in the Home Office's shape. Figures only: no names, no
references, no free text. Types of concern are counted by the Home Office scheme in force in each part of the period
(app/cases/statistics_schemes.py: pre-2025 before April 2024, PCMT 2025 from then), and each section says which. For
readers without access to case records (Governance), counts from 1 to 4 are withheld, and so is any figure from which
one could be worked out (app/governance/suppression.py), so that nobody can be singled out."""
from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, selectinload

from app.cases import statistics_schemes
from app.cases.use_cases import repeat_referral_clause
from app.employers import use_cases as employers
from app.governance import suppression
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
    StatisticsCategory,
    stalled_clause,
    utcnow,
)
from app.training import use_cases as training

WITHHELD = suppression.WITHHELD
Figure = int | str
NOT_STATED = "Not stated"
NOT_MAPPED = "Not mapped to this scheme"
DECIDED_WITHOUT_REFERRAL = (ClosureOutcome.no_further_action, ClosureOutcome.internal_safeguarding,
                            ClosureOutcome.signposted)
# "What happened": the first four and awaiting_decision share out every concern; the rest are stages of the referred.
OUTCOMES = ("no_further_action", "internal_safeguarding", "signposted", "referred_to_police", "awaiting_decision",
            "discussed_at_channel_panel", "adopted", "onward_support", "support_completed")
DECISIONS = OUTCOMES[:5]


@dataclass
class SchemeCount:
    """The concerns recorded in one part of the period, by the categories of the scheme in force then."""

    scheme: str
    start: date
    end: date
    concerns: Figure
    by_category: dict[str, Figure]


@dataclass
class BoardReport:
    start: date
    end: date
    concerns: Figure
    by_type: list[SchemeCount]
    by_subject_type: dict[str, Figure]
    by_programme: dict[str, Figure]
    outcomes: dict[str, Figure]
    police_outcomes: dict[str, Figure]
    days_to_first_decision: dict[str, float | None]
    overdue_actions: Figure
    repeat_referrals: Figure
    stalled: Figure
    home_office: list[HomeOfficeTable]
    extras: dict[str, Any] = field(default_factory=dict)  # training compliance, employer coverage

    @property
    def schemes(self) -> list[str]:
        return [part.scheme for part in self.by_type]


@dataclass
class HomeOfficeTable:
    """Laid out like the Home Office's "Individuals referred to and supported through the Prevent Programme":
    for each category of the scheme and quarter, referrals, then those discussed at a Channel panel, then adopted.
    One table per scheme: the quarters from April 2024 by PCMT 2025, earlier ones by pre-2025."""

    scheme: str
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
    """Case workers see exact counts; readers of figures only (Governance) see no count from 1 to 4, nor any figure
    from which one could be worked out."""
    return not can(actor, "can_read_all")


class _Table:
    """The report's counts, each under a key, and the groups of them that add up to a total: what the one suppression
    rule (app/governance/suppression.py) works over."""

    def __init__(self) -> None:
        self.cells: dict[Hashable, int] = {}
        self.groups: list[suppression.Group] = []

    def put(self, key: Hashable, count: int) -> Hashable:
        self.cells[key] = count
        return key

    def group(self, total: Hashable, parts: Sequence[Hashable]) -> None:
        self.groups.append(suppression.Group(total, tuple(parts)))

    def figures(self, suppressing: bool) -> dict[Hashable, Figure]:
        return suppression.shown(self.cells, self.groups) if suppressing else dict(self.cells)


def _category(case: Case, scheme: str) -> str:
    """The case's type of concern as the scheme's category."""
    if case.concern_type is None:
        return NOT_STATED
    category = getattr(case.concern_type, statistics_schemes.CATEGORY_ATTRIBUTE[scheme])
    return category.label if category is not None else NOT_MAPPED


def _recorded_on(case: Case) -> date:
    at = case.recorded_at if case.recorded_at.tzinfo else case.recorded_at.replace(tzinfo=UTC)
    return at.astimezone(UTC).date()


def _with_categories():
    return (selectinload(Case.concern_type).selectinload(ConcernType.pre_2025_category),
            selectinload(Case.concern_type).selectinload(ConcernType.pcmt_2025_category))


def board_report(session: Session, actor, start: date, end: date, today: date | None = None,
                 suppressed: bool | None = None) -> BoardReport:
    """The Board's figures for the period; small counts withheld for readers of figures only, or whenever
    `suppressed` (the evidence pack, which leaves the provider)."""
    if not can(actor, "can_read", "BoardReport"):
        raise Forbidden()
    today = today or date.today()
    low, high = _bounds(start, end)
    cases = session.scalars(sa.select(Case).where(Case.recorded_at >= low, Case.recorded_at < high)
                            .options(selectinload(Case.subject), *_with_categories())).all()
    ids = [c.id for c in cases]
    table = _Table()
    concerns = table.put("concerns", len(cases))

    sections = []
    for part in statistics_schemes.scheme_parts(start, end):
        in_part = [c for c in cases if part.start <= _recorded_on(c) <= part.end]
        total = table.put(("type", part.scheme), len(in_part))
        counts = sorted(Counter(_category(c, part.scheme) for c in in_part).items())
        keys = {label: table.put(("type", part.scheme, label), n) for label, n in counts}
        table.group(total, list(keys.values()))
        sections.append((part, total, keys))
    table.group(concerns, [total for _, total, _ in sections])

    def counted(name: str, values) -> dict[str, Hashable]:
        keys = {label: table.put((name, label), n) for label, n in sorted(Counter(values).items())}
        table.group(concerns, list(keys.values()))
        return keys

    by_subject_type = counted("subject", (c.subject.subject_type.value for c in cases))
    by_programme = counted("programme", (c.subject.programme or NOT_STATED for c in cases))
    outcomes: Counter[str] = Counter()
    police: Counter[str] = Counter()
    for case in cases:
        if case.referral_date is not None:
            outcomes["referred_to_police"] += 1
            police[case.gateway_outcome or "awaiting_outcome"] += 1
        elif case.closure_outcome in DECIDED_WITHOUT_REFERRAL:
            outcomes[case.closure_outcome.value] += 1
        else:
            outcomes["awaiting_decision"] += 1
        if case.panel_date is not None:
            outcomes["discussed_at_channel_panel"] += 1
        if case.panel_decision == "adopted":
            outcomes["adopted"] += 1
        if case.closure_outcome in (ClosureOutcome.onward_support, ClosureOutcome.support_completed):
            outcomes[case.closure_outcome.value] += 1
    outcome_keys = {key: table.put(("outcome", key), outcomes[key]) for key in OUTCOMES}
    table.group(concerns, [outcome_keys[key] for key in DECISIONS])
    police_keys = {key: table.put(("police", key), n) for key, n in sorted(police.items())}
    table.group(outcome_keys["referred_to_police"], list(police_keys.values()))
    in_period = Case.id.in_(ids) if ids else sa.false()
    overdue = table.put("overdue_actions", session.scalar(
        sa.select(sa.func.count()).select_from(CaseAction).join(Case).where(
            in_period, CaseAction.status == ActionStatus.open, CaseAction.due_date < today)) or 0)
    repeat = table.put("repeat_referrals", session.scalar(
        sa.select(sa.func.count()).select_from(Case).where(in_period, repeat_referral_clause())) or 0)
    stalled = table.put("stalled", session.scalar(sa.select(sa.func.count()).select_from(Case).where(
        in_period, stalled_clause(utcnow(), current_app.config["STALLED_AFTER_DAYS"]))) or 0)
    layouts = _home_office_cells(session, start, end, table)
    extras = _organisation_cells(session, actor, min(end, today), table)

    figures = table.figures(suppresses_small_counts(actor) if suppressed is None else suppressed)
    days = _first_decision_days(session, cases)
    return BoardReport(
        start=start, end=end, concerns=figures[concerns],
        by_type=[SchemeCount(part.scheme, part.start, part.end, figures[total],
                             {label: figures[key] for label, key in keys.items()}) for part, total, keys in sections],
        by_subject_type={label: figures[key] for label, key in by_subject_type.items()},
        by_programme={label: figures[key] for label, key in by_programme.items()},
        outcomes={name: figures[key] for name, key in outcome_keys.items()},
        police_outcomes={name: figures[key] for name, key in police_keys.items()},
        days_to_first_decision={"median": statistics.median(days) if days else None,
                                "p90": _percentile(days, 0.9)},
        overdue_actions=figures[overdue], repeat_referrals=figures[repeat], stalled=figures[stalled],
        home_office=[HomeOfficeTable(scheme, quarters,
                                     [(label, [_cell(figures, cell) for cell in cells]) for label, cells in rows],
                                     [_cell(figures, cell) for cell in totals])
                     for scheme, quarters, rows, totals in layouts],
        extras=extras(figures),
    )


def _cell(figures: dict[Hashable, Figure], keys: list[Hashable]) -> tuple[Figure, Figure, Figure]:
    referred, panel, adopted = (figures[key] for key in keys)
    return referred, panel, adopted


def _organisation_cells(session: Session, actor, as_of: date, table: _Table):
    """Staff training compliance and employer awareness coverage, as of the end of the period (or today): each count
    with the rest of its total shown beside it, so that withholding covers the pair; a percentage only where both of
    its counts are shown (from it and one count the other could be worked out)."""
    trained = training.compliance(session, actor, as_of).overall
    covered = employers.coverage(session, actor, as_of).overall
    pairs: dict[str, tuple[tuple[tuple[str, str], ...], float | None]] = {}
    for name, have, have_not, total, count, active, percent in (
            ("training_compliance_percent", "staff_with_current_prevent_training",
             "staff_without_current_prevent_training", "active_staff", trained.current, trained.active,
             trained.percent),
            ("employer_coverage_percent", "employers_aware_in_last_12_months",
             "employers_not_aware_in_last_12_months", "active_employers", covered.covered, covered.active,
             covered.percent)):
        keys = (("extra", have), ("extra", have_not), ("extra", total))
        for key, n in zip(keys, (count, active - count, active), strict=True):
            table.put(key, n)
        table.group(keys[2], keys[:2])
        pairs[name] = (keys, percent)

    def shown(figures: dict[Hashable, Figure]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, (keys, percent) in pairs.items():
            out |= {key[1]: figures[key] for key in keys}
            out[name] = WITHHELD if any(figures[key] == WITHHELD for key in keys) else percent
        return out
    return shown


def _home_office_cells(session: Session, start: date, end: date, table: _Table):
    """Referrals by the date they were sent to the police; Channel discussion by panel date; adoption likewise. Each
    by the category of the scheme in force on that date: one table per scheme, its quarters as columns."""
    cases = session.scalars(sa.select(Case).where(
        sa.or_(Case.referral_date.between(start, end), Case.panel_date.between(start, end)))
        .options(*_with_categories())).all()
    grid: Counter[tuple[str, str, str, int]] = Counter()
    for case in cases:
        if case.referral_date and start <= case.referral_date <= end:
            scheme = statistics_schemes.scheme_on(case.referral_date)
            grid[scheme, _category(case, scheme), quarter_of(case.referral_date), 0] += 1
        if case.panel_date and start <= case.panel_date <= end:
            scheme = statistics_schemes.scheme_on(case.panel_date)
            label, quarter = _category(case, scheme), quarter_of(case.panel_date)
            grid[scheme, label, quarter, 1] += 1
            if case.panel_decision == "adopted":
                grid[scheme, label, quarter, 2] += 1
    layouts = []
    for part in statistics_schemes.scheme_parts(start, end):
        quarters = _quarters(part.start, part.end)
        labels = list(session.scalars(sa.select(StatisticsCategory.label).where(
            StatisticsCategory.scheme == part.scheme).order_by(StatisticsCategory.position, StatisticsCategory.id)))
        labels += [NOT_MAPPED] * any(key[:2] == (part.scheme, NOT_MAPPED) for key in grid) + [NOT_STATED]
        rows = [(label, [[table.put(("ho", part.scheme, label, q, i), grid[part.scheme, label, q, i])
                          for i in range(3)] for q in quarters]) for label in labels]
        totals = []
        for column, quarter in enumerate(quarters):
            cell = []
            for i in range(3):
                total = table.put(("ho total", part.scheme, quarter, i),
                                  sum(grid[part.scheme, label, quarter, i] for label in labels))
                table.group(total, [cells[column][i] for _, cells in rows])
                cell.append(total)
            totals.append(cell)
        layouts.append((part.scheme, quarters, rows, totals))
    return layouts


def chart_values(report: BoardReport) -> dict[str, Figure]:
    """Concerns by category for the chart: each label with its scheme when the period spans two."""
    if len(report.by_type) == 1:
        return dict(report.by_type[0].by_category)
    return {f"{label} ({part.scheme})": n for part in report.by_type for label, n in part.by_category.items()}


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
