"""A case's chronology as PDF (for the Channel panel or the Programme Board) and CSV, optionally with staff names
redacted, and the Board report as CSV and PDF. Pure rendering: the services check access and audit case exports."""
from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import matplotlib
from fpdf import FPDF

from app.kernel.formats import uk_datetime

# A Unicode font shipped inside an installed package (matplotlib's DejaVu Sans): names in any script render, and
# nothing is fetched at run time.
FONT_DIR = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
COLUMNS = ("at", "kind", "by", "summary", "from_status", "to_status", "reason", "details")


@dataclass(frozen=True)
class ExportRow:
    at: datetime
    kind: str
    by: str
    summary: str
    from_status: str
    to_status: str
    reason: str
    details: str


class StaffPseudonyms:
    """Replaces every member of staff's name (and username) with a stable label, "Staff member 1" and so on, in the
    order they first appear: the reader can follow who did what without learning who it was."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted({name for name in names if name.strip()}, key=len, reverse=True)
        self.labels: dict[str, str] = {}

    def scrub(self, text: str) -> str:
        for name in self.names:
            if name in text:
                text = text.replace(name, self.labels.setdefault(name, f"Staff member {len(self.labels) + 1}"))
        return text

    def row(self, row: ExportRow) -> ExportRow:
        return ExportRow(row.at, row.kind, *(self.scrub(value) for value in (
            row.by, row.summary, row.from_status, row.to_status, row.reason, row.details)))


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection"): words typed by
# staff, such as a programme's name or a reason, must never run on the Lead's or Governance's machine.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """The cell as text a spreadsheet shows and never runs: a leading apostrophe, as OWASP advises."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _csv(header: Iterable[str], rows: Iterable[Iterable[str]]) -> bytes:
    """The one CSV writer: every cell made safe for spreadsheets, with a BOM so that Excel reads UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_csv(rows: Iterable[ExportRow]) -> bytes:
    return _csv(COLUMNS, ([row.at.isoformat(), row.kind, row.by, row.summary, row.from_status, row.to_status,
                           row.reason, row.details] for row in rows))


class _MarkedPDF(FPDF):
    """A PDF whose every page is headed by its protective marking ("OFFICIAL-SENSITIVE"), when it has one, and
    numbered."""

    marking = ""

    def header(self) -> None:
        if self.marking:
            self.set_font("DejaVu", "B", 10)
            self.cell(0, 6, self.marking, align="C", new_x="LMARGIN", new_y="NEXT")
            self.ln(2)

    def footer(self) -> None:
        if self.marking:
            self.set_y(-12)
            self.set_font("DejaVu", "", 8)
            self.cell(0, 5, f"{self.marking} · page {self.page_no()}", align="C")


def _document(marking: str = "") -> FPDF:
    pdf = _MarkedPDF(format="A4")
    pdf.marking = marking
    pdf.add_font("DejaVu", "", os.path.join(FONT_DIR, "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", os.path.join(FONT_DIR, "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    return pdf


def to_pdf(title: str, facts: list[tuple[str, str]], rows: Iterable[ExportRow], footer: str) -> bytes:
    pdf = _document()
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 5, footer, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for label, value in facts:
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(45, 6, label)
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 13)
    pdf.cell(0, 8, "Chronology", new_x="LMARGIN", new_y="NEXT")
    for row in rows:
        pdf.set_font("DejaVu", "B", 10)
        states = f" ({row.from_status} → {row.to_status})" if row.from_status and row.to_status else ""
        pdf.multi_cell(0, 6, f"{uk_datetime(row.at)} · {row.by} · {row.summary}{states}", new_x="LMARGIN",
                       new_y="NEXT")
        pdf.set_font("DejaVu", "", 10)
        for text in (row.reason, row.details):
            if text:
                pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    return bytes(pdf.output())


def export_rows(items) -> list[ExportRow]:
    """Chronology items (app/cases/use_cases.py) as export rows."""
    def details(data: dict) -> str:
        # A recipient's username is in the data for the API; the summary already names them for a reader.
        return "; ".join(f"{key.replace('_', ' ')}: {value}" for key, value in data.items()
                         if value is not None and key != "recipient")

    return [ExportRow(item.at, item.kind, item.actor_name, item.summary, item.from_status or "", item.to_status or "",
                      item.reason or "", details(item.data)) for item in items]


def report_lines(report) -> list[tuple[str, str, str]]:
    """The Board report (app/governance/reports.py) as (section, item, figure) lines, the shape both files share."""
    lines = [("Period", "from", report.start.isoformat()), ("Period", "to", report.end.isoformat()),
             ("Concerns", "raised", str(report.concerns))]
    for part in report.by_type:  # each part of the period by the Home Office scheme in force then
        section = f"By type of concern ({part.scheme} categories, {part.start.isoformat()} to {part.end.isoformat()})"
        lines += [(section, "concerns raised", str(part.concerns))]
        lines += [(section, label, str(value)) for label, value in part.by_category.items()]
    for section, values in (("By who they are about", report.by_subject_type),
                            ("By programme", report.by_programme), ("What happened", report.outcomes),
                            ("Police gateway outcomes", report.police_outcomes)):
        lines += [(section, label.replace("_", " "), str(value)) for label, value in values.items()]
    median, p90 = report.days_to_first_decision["median"], report.days_to_first_decision["p90"]
    lines += [("Time to first decision (days)", "median", "" if median is None else str(median)),
              ("Time to first decision (days)", "90th percentile", "" if p90 is None else str(p90)),
              ("Now", "overdue actions", str(report.overdue_actions)),
              ("Now", "repeat referrals", str(report.repeat_referrals)), ("Now", "stalled", str(report.stalled))]
    lines += [("Other figures", label.replace("_", " "), str(value)) for label, value in report.extras.items()]
    for table in report.home_office:
        for label, cells in table.rows + [("Total", table.totals)]:
            for quarter, (referred, panel, adopted) in zip(table.quarters, cells, strict=True):
                section = f"Home Office table {quarter} ({table.scheme} categories)"
                lines += [(section, f"{label}: referred", str(referred)),
                          (section, f"{label}: discussed at a Channel panel", str(panel)),
                          (section, f"{label}: adopted", str(adopted))]
    return lines


def report_csv(report) -> bytes:
    return _csv(("section", "item", "figure"), report_lines(report))


def report_pdf(report, note: str) -> bytes:
    pdf = _document()
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(0, 9, f"Programme Board report, {report.start:%d %b %Y} to {report.end:%d %b %Y}",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 5, note, new_x="LMARGIN", new_y="NEXT")
    section = None
    for heading, item, figure in report_lines(report):
        if heading != section:
            section = heading
            pdf.ln(2)
            pdf.set_font("DejaVu", "B", 11)
            pdf.multi_cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("DejaVu", "", 10)
        if pdf.get_string_width(item) < 138:
            pdf.cell(140, 5, item)
            pdf.cell(0, 5, figure, align="R", new_x="LMARGIN", new_y="NEXT")
        else:  # a long category's name wraps, its figure after it
            pdf.multi_cell(0, 5, f"{item}: {figure}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def subject_access_pdf(record: dict, note: str) -> bytes:
    """The subject access export (app/governance/retention.py) as a readable document: the subject, then each case
    with its facts, chronology and actions, then the audit events and emails about them."""
    pdf = _document()

    def heading(text: str, size: int) -> None:
        pdf.set_font("DejaVu", "B", size)
        pdf.multi_cell(0, size * 0.6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 10)

    def fields(values: dict) -> None:
        for key, value in values.items():
            if value not in (None, "", [], {}) and not isinstance(value, (list, dict)):
                pdf.multi_cell(0, 5, f"{key.replace('_', ' ')}: {value}", new_x="LMARGIN", new_y="NEXT")

    heading("Subject access export", 16)
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 5, note, new_x="LMARGIN", new_y="NEXT")
    heading("The person", 13)
    fields(record["subject"])
    for case in record["cases"]:
        pdf.ln(3)
        heading(f"Case {case['reference']}", 13)
        fields(case)
        if case["indicators"]:
            pdf.multi_cell(0, 5, "indicators: " + "; ".join(case["indicators"]), new_x="LMARGIN", new_y="NEXT")
        heading("Chronology", 11)
        for item in case["chronology"]:
            pdf.multi_cell(0, 5, f"{item['at']} · {item['by']} · {item['summary']}", new_x="LMARGIN", new_y="NEXT")
            for text in (item["reason"], "; ".join(f"{k}: {v}" for k, v in (item["data"] or {}).items())):
                if text:
                    pdf.multi_cell(0, 5, f"    {text}", new_x="LMARGIN", new_y="NEXT")
        for title, rows in (("Actions", case["actions"]), ("Prevent Lead's reviews", case["reviews"]),
                            ("Files", case.get("attachments")), ("Others involved", case.get("others_involved")),
                            ("Referral form details", [case["referral_details"]] if case.get("referral_details")
                             else None)):
            if rows:
                heading(title, 11)
                for row in rows:
                    fields(row)
                    pdf.ln(1)
    heading("Audit events", 13)
    for ev in record["audit_events"]:
        pdf.multi_cell(0, 5, f"{ev['seq']} · {ev['at']} · {ev['actor']} · {ev['action']} {ev['entity_type']}"
                       + (f" · {ev['reason']}" if ev["reason"] else ""), new_x="LMARGIN", new_y="NEXT")
        if ev["changes"]:
            pdf.multi_cell(0, 5, "    " + "; ".join(f"{k}: {v.get('new') if isinstance(v, dict) else v}"
                                                    for k, v in ev["changes"].items()), new_x="LMARGIN", new_y="NEXT")
    heading("Emails about the cases", 13)
    for mail in record["emails"]:
        pdf.multi_cell(0, 5, f"{mail['created_at']} · {mail['subject']} · {mail['status']}", new_x="LMARGIN",
                       new_y="NEXT")
        if mail["body"]:
            pdf.multi_cell(0, 5, mail["body"], new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def sectioned_pdf(title: str, marking: str, note: str, sections: list[tuple[str, list[tuple[str, str]]]],
                  closing: str = "", *, inline: bool = False) -> bytes:
    """A document in numbered sections, each a heading and its answers (the referral form, app/cases/referral_form.py;
    the evidence pack, app/governance/evidence_pack.py); every page headed by the marking, the closing words (that
    Channel is not a criminal process) after the title and at the end. `inline`: each answer on its label's line."""
    pdf = _document(marking)
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 5, note, new_x="LMARGIN", new_y="NEXT")
    if closing:
        pdf.set_font("DejaVu", "B", 10)
        pdf.multi_cell(0, 6, closing, new_x="LMARGIN", new_y="NEXT")
    for heading, rows in sections:
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 12)
        pdf.multi_cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
        for label, text in rows:
            if inline:
                pdf.set_font("DejaVu", "", 10)
                pdf.multi_cell(0, 5, f"{label}: {text}", new_x="LMARGIN", new_y="NEXT")
                continue
            pdf.set_font("DejaVu", "B", 9)
            pdf.multi_cell(0, 5, label, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("DejaVu", "", 10)
            pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
    if closing:
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 10)
        pdf.multi_cell(0, 6, closing, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
