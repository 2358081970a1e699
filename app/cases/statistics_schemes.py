"""The Home Office's schemes of statistics categories for the type of concern, when each is in force, and how the
seeded types of concern map to each. One place: the seed (app/seed.py) and the Board report
(app/governance/reports.py) read it.

- "pre-2025": the categories of the releases up to the year ending March 2024 (docs/domain.md's list).
- "PCMT 2025": the Prevent Case Management Tracker's categories, used from the release of 6 November 2025,
  "Individuals referred to and supported through the Prevent Programme, April 2024 to March 2025" (year 2024/25). That
  release says the PCMT replaced the two earlier systems from May 2024 and that "the type of concern categories have
  also been updated in the new PCMT" (gov.uk/government/statistics/individuals-referred-to-prevent-to-march-2025, and
  its user guide, updated 6 November 2025). The stored copies of both pages we could search hold only their opening
  sections, not the category table itself, so the list below is the best-supported one, not a copy of the table: the
  names the release's own figures were reported under (Extreme Right-Wing 1,798; Islamist 870; "no ideology
  identified" 4,917 with "no ideology - other susceptibility to radicalisation identified"; "fascination with extreme
  violence or mass casualty attacks (where no other ideology)" 469; left wing 21; multiple ideologies with none
  dominant, i.e. conflicted) plus the earlier categories the release still counts under Other. An administrator can
  correct labels and mappings (Reference data > Types of concern) without a release.

A period is counted by the scheme in force then: financial years from 2024/25 (quarters from 1 April 2024) by PCMT 2025,
earlier ones by pre-2025, as the Home Office does.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

PRE_2025 = "pre-2025"
PCMT_2025 = "PCMT 2025"
SCHEMES = (PRE_2025, PCMT_2025)
PCMT_FROM = date(2024, 4, 1)  # the first day of financial year 2024/25
# The ConcernType column holding each scheme's category.
CATEGORY_ATTRIBUTE = {PRE_2025: "pre_2025_category", PCMT_2025: "pcmt_2025_category"}

PRE_2025_CATEGORIES = [
    "Islamist",
    "Extreme Right-Wing",
    "Left Wing, Anarchist or Single Issue",
    "Mixed, Unclear or Unstable",
    "Conflicted",
    "School massacre",
    "Incel",
    "Northern Ireland-related",
    "Fascination with extreme violence or mass casualty attacks (no other ideology)",
    "No identified ideology",
    "Other",
]

FASCINATION = "Fascination with extreme violence or mass casualty attacks (where no other ideology)"
NO_IDEOLOGY = "No ideology identified"
OTHER_SUSCEPTIBILITY = "No ideology - other susceptibility to radicalisation identified"
PCMT_2025_CATEGORIES = [
    "Islamist",
    "Extreme Right-Wing",
    "Left Wing, Anarchist or Single Issue",
    "Northern Ireland-related",
    "Conflicted",
    FASCINATION,
    NO_IDEOLOGY,
    OTHER_SUSCEPTIBILITY,
    "Other",
]

# Each seeded type of concern: its category in each scheme, and whether a newer PCMT type replaces it (retired: kept
# on the cases coded with it, no longer offered). A type named like a category of both schemes stays as it is.
@dataclass(frozen=True)
class SeededType:
    label: str
    pre_2025: str
    pcmt_2025: str
    retired: bool = False


SEEDED_TYPES = [
    SeededType("Islamist", "Islamist", "Islamist"),
    SeededType("Extreme Right-Wing", "Extreme Right-Wing", "Extreme Right-Wing"),
    SeededType("Left Wing, Anarchist or Single Issue", "Left Wing, Anarchist or Single Issue",
               "Left Wing, Anarchist or Single Issue"),
    SeededType("Mixed, Unclear or Unstable", "Mixed, Unclear or Unstable", NO_IDEOLOGY, retired=True),
    SeededType("Conflicted", "Conflicted", "Conflicted"),
    SeededType("School massacre", "School massacre", FASCINATION, retired=True),
    SeededType("Incel", "Incel", "Other"),
    SeededType("Northern Ireland-related", "Northern Ireland-related", "Northern Ireland-related"),
    SeededType("Fascination with extreme violence or mass casualty attacks (no other ideology)",
               "Fascination with extreme violence or mass casualty attacks (no other ideology)", FASCINATION,
               retired=True),
    SeededType("No identified ideology", "No identified ideology", NO_IDEOLOGY, retired=True),
    SeededType("Other", "Other", "Other"),
    # The PCMT's own, new in 2025.
    SeededType(FASCINATION, "Fascination with extreme violence or mass casualty attacks (no other ideology)",
               FASCINATION),
    SeededType(NO_IDEOLOGY, "No identified ideology", NO_IDEOLOGY),
    SeededType(OTHER_SUSCEPTIBILITY, "No identified ideology", OTHER_SUSCEPTIBILITY),
]


def scheme_on(day: date) -> str:
    return PCMT_2025 if day >= PCMT_FROM else PRE_2025


@dataclass(frozen=True)
class SchemePart:
    """The part of a period counted by one scheme."""

    scheme: str
    start: date
    end: date


def scheme_parts(start: date, end: date) -> list[SchemePart]:
    """The period split where the scheme changes: one part, or two for a period spanning 1 April 2024."""
    if start < PCMT_FROM <= end:
        return [SchemePart(PRE_2025, start, PCMT_FROM - timedelta(days=1)), SchemePart(PCMT_2025, PCMT_FROM, end)]
    return [SchemePart(scheme_on(start), start, end)]
