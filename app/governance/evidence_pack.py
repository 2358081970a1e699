"""The evidence pack (issue 14, point 7): the provider's whole Prevent duty for a period, in one PDF for an inspector
or the Programme Board. Each area gives its own figures through its `evidence(session, actor, start, end)`; this
module only puts them in order and in words. Figures only: no name of anyone in a case, the Board report's small
counts withheld (app/governance/suppression.py) whoever downloads it, as the pack leaves the provider. Each download
is audited."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.british_values import use_cases as british_values
from app.employers import use_cases as employers
from app.extensions import db
from app.governance import reports
from app.governance.oversight import Export
from app.governance.schemas import EXPORT_FORMATS
from app.kernel import audit, exports, formats
from app.kernel.errors import Forbidden
from app.kernel.security import can
from app.kernel.uow import unit_of_work
from app.models import User, utcnow
from app.monitoring import use_cases as monitoring
from app.policies import use_cases as policies
from app.risks import use_cases as risks
from app.speakers import use_cases as speakers
from app.training import evidence as training

MARKING = "OFFICIAL-SENSITIVE"
Lines = list[tuple[str, str]]


@dataclass(frozen=True)
class Section:
    title: str
    lines: Lines


def _words(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _said(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return formats.uk_date(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def flatten(figures: Any, label: str = "") -> Lines:
    """An area's evidence (dicts of figures, lists of short rows) as lines of (label, value), in the order given."""
    if isinstance(figures, dict):
        if figures and all(not isinstance(v, (dict, list)) for v in figures.values()) and label:
            return [(label, "; ".join(f"{_words(k).lower()} {_said(v)}" for k, v in figures.items()))]
        lines: Lines = []
        for key, value in figures.items():
            lines += flatten(value, f"{label} · {_words(key)}" if label else _words(key))
        return lines
    if isinstance(figures, list):
        if not figures:
            return [(label, "none")]
        return [line for n, item in enumerate(figures, 1) for line in flatten(item, f"{label} {n}")]
    return [(label, _said(figures))]


def _board(session: Session, actor, start: date, end: date) -> Lines:
    report = reports.board_report(session, actor, start, end, suppressed=True)
    return [(f"{section} · {item}", figure) for section, item, figure in exports.report_lines(report)
            if section != "Period"]


def _employers(session: Session, actor, start: date, end: date) -> Lines:
    overall = employers.coverage(session, actor, min(end, date.today())).overall
    return [("Active employers", str(overall.active)),
            ("Told of the Prevent duty in the last 12 months (acknowledged)", str(overall.covered)),
            ("Coverage", "none" if overall.percent is None else f"{overall.percent:g}%")]


PERIOD_KEYS = ("period", "from", "to")  # the pack's title gives the period once


def _from(evidence: Callable[[Session, Any, date, date], dict[str, Any]]):
    return lambda session, actor, start, end: flatten(
        {key: value for key, value in evidence(session, actor, start, end).items() if key not in PERIOD_KEYS})


# The pack's sections in the order an inspector reads them.
SECTIONS: tuple[tuple[str, Callable[[Session, Any, date, date], Lines]], ...] = (
    ("1. Risk assessment and action plan", _from(risks.evidence)),
    ("2. Staff training and subcontracted provision", _from(training.evidence)),
    ("3. Policies read", _from(policies.evidence)),
    ("4. Partner employers told of the Prevent duty", _employers),
    ("5. External speakers and events decided", _from(speakers.evidence)),
    ("6. Web filtering and monitoring alerts triaged", _from(monitoring.evidence)),
    ("7. British values and Learner Voice", _from(british_values.evidence)),
    ("8. Casework figures (the Programme Board report; small numbers withheld)", _board),
)


def evidence_pack(session: Session, actor, start: date, end: date) -> list[Section]:
    if not can(actor, "can_read", "EvidencePack"):
        raise Forbidden()
    return [Section(title, lines(session, actor, start, end)) for title, lines in SECTIONS]


def download(actor, payload: dict) -> Export:
    """The pack for the period asked for as a PDF; the download audited."""
    start, end = reports.period(payload)
    sections = evidence_pack(db.session, actor, start, end)
    with unit_of_work() as work:
        audit.record(work, actor, "evidence_pack_pdf", work.get_one(User, actor.id),
                     extra_changes={"from": (None, start.isoformat()), "to": (None, end.isoformat())})
    note = (f"Prepared {formats.uk_datetime(utcnow())} for the period {formats.uk_date(start)} to "
            f"{formats.uk_date(end)}. Figures only: no one in a case is named, and small numbers are withheld.")
    content = exports.sectioned_pdf(f"Prevent duty evidence pack, {formats.uk_date(start)} to {formats.uk_date(end)}",
                                    MARKING, note, [(s.title, s.lines) for s in sections], inline=True)
    return Export(f"prevent-evidence-pack-{start.isoformat()}-to-{end.isoformat()}.pdf", EXPORT_FORMATS["pdf"],
                  content)
