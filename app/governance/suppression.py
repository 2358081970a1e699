"""Statistical disclosure control for readers of figures only (Governance): the one rule, over a table of cells and
the marginals (totals) they sum to.

Primary suppression withholds every count from 1 to 4. That alone leaks: Governance seeing 6 concerns in all and 5 about
learners knows there was 1 about a colleague. So each group of figures that sums to a shown total is made safe by
secondary suppression: while a group has a single withheld figure (the total less the others gives it), or its
withheld parts could only all be 1 (their sum equals their number), the smallest other non-zero part is withheld too
(the total, when no such part is left). Cells are shared between groups (the number of concerns is the total of four
groups, a scheme's count of concerns is a part of one group and the total of another), so this runs until no group
changes.

Every withheld figure is shown alike, as "withheld": were a secondary one told apart from the 1 to 4 ones, the
reader would know it is 5 or more and could work the small one out again. Zeros are never withheld as secondaries,
since a reader could then take the withheld sum as the small figure itself.

Why secondary suppression and not rounding to the nearest 5: a provider's Board reads small numbers; rounding would
turn nearly every figure into 0 or 5 (a concern about a colleague would read as none at all) and make totals disagree
with their parts, and percentages from exact counts would still leak. Secondary suppression keeps every figure it
shows exact.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

WITHHELD = "withheld"
SMALLEST, LARGEST = 1, 4  # the counts that could single someone out


@dataclass(frozen=True)
class Group:
    """A total and the parts that add up to it exactly (each a key of the table's cells)."""

    total: Hashable
    parts: tuple[Hashable, ...]


def is_small(count: int) -> bool:
    return SMALLEST <= count <= LARGEST


def withheld(cells: Mapping[Hashable, int], groups: Iterable[Group]) -> set[Hashable]:
    """The keys of the cells to withhold so that no count from 1 to 4 is shown or can be worked out from a group."""
    groups = list(groups)
    hidden = {key for key, count in cells.items() if is_small(count)}
    changed = True
    while changed:
        changed = False
        for group in groups:
            members = [group.total, *group.parts]
            hidden_members = [key for key in members if key in hidden]
            hidden_parts = [key for key in group.parts if key in hidden]
            if not hidden_members:
                continue
            only_one = len(hidden_members) == 1
            all_ones = (group.total not in hidden and len(hidden_parts) > 1
                        and sum(cells[key] for key in hidden_parts) == len(hidden_parts))
            if not (only_one or all_ones):
                continue
            candidates = sorted((key for key in group.parts if key not in hidden and cells[key] > 0),
                                key=lambda key: cells[key])
            if candidates:
                hidden.add(candidates[0])
                changed = True
            elif group.total not in hidden and cells[group.total] > 0:
                hidden.add(group.total)
                changed = True
    return hidden


def shown(cells: Mapping[Hashable, int], groups: Iterable[Group]) -> dict[Hashable, int | str]:
    """Every cell as a reader of figures only may see it: its count, or "withheld"."""
    hidden = withheld(cells, groups)
    return {key: WITHHELD if key in hidden else count for key, count in cells.items()}
