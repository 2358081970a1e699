"""Training by role (the provider's policy, section 2: training "as identified by their leaders and managers"): the
Prevent Lead says which courses each app role and each team on the staff list needs, and compliance counts against it.

The rule for one person, the one place that says it (`standing`):
- everyone needs current Prevent duty training: their latest completion of any course of kind `prevent` sets the date
  (the rule before requirements existed, and still the whole rule for someone nothing more is required of);
- on top of that, every course required of one of their roles (through their sign-in) or of their team: current in it
  means the refresher date of their latest completion of that course has not passed.
They are current when every item is; due soon when every item is current and one falls due within 30 days; never
trained when they have no completion of any course; otherwise overdue (an item lapsed or never done). What is not
current is listed as `outstanding`, for the compliance page and API.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.kernel import audit
from app.kernel.errors import Conflict, Forbidden, NotFound
from app.kernel.security import ROLE_MATRIX, can
from app.kernel.uow import unit_of_work
from app.models import CourseKind, Role, StaffMember, TrainingCourse, TrainingRecord, TrainingRequirement, User
from app.training.schemas import REQUIREMENT

# The item every employee needs, in words: any current Prevent course.
PREVENT_TRAINING = "Prevent duty training (any Prevent course)"
ROLE_NAMES = tuple(ROLE_MATRIX)


@dataclass(frozen=True)
class Outstanding:
    """An item someone is not current in: a course (or the Prevent duty training everyone needs), with the refresher
    date of their latest completion of it (None: never done)."""

    course: str
    refresher_due: date | None


@dataclass(frozen=True)
class Standing:
    refresher_due: date | None  # the earliest refresher date over their items; None when one was never done
    any_held: bool  # they have completed any course at all
    outstanding: list[Outstanding]


def active_requirements(session: Session) -> Sequence[TrainingRequirement]:
    return session.scalars(
        sa.select(TrainingRequirement).where(TrainingRequirement.active.is_(True))
        .options(selectinload(TrainingRequirement.course))
        .order_by(TrainingRequirement.course_id, TrainingRequirement.role, TrainingRequirement.team)).all()


def standings(session: Session, staff: Iterable[StaffMember], today: date) -> dict[int, Standing]:
    """Each person's standing against the requirements in force, in four queries whatever the number of people."""
    from app.training.use_cases import DUE_SOON  # here: use_cases imports this module

    people = list(staff)
    ids = [person.id for person in people]
    if not ids:
        return {}
    requirements = active_requirements(session)
    by_role: dict[str, set[int]] = defaultdict(set)
    by_team: dict[str, set[int]] = defaultdict(set)
    for requirement in requirements:
        if requirement.role is not None:
            by_role[requirement.role].add(requirement.course_id)
        elif requirement.team is not None:
            by_team[requirement.team.lower()].add(requirement.course_id)
    roles: dict[int, set[str]] = defaultdict(set)
    if by_role:
        for staff_id, role in session.execute(
                sa.select(StaffMember.id, Role.name).join(User, User.id == StaffMember.user_id)
                .join(User.roles).where(StaffMember.id.in_(ids))):
            roles[staff_id].add(role)
    # Each person's latest completion of each course (a tie on the date goes to the later refresher date).
    rank = sa.func.row_number().over(
        partition_by=(TrainingRecord.staff_member_id, TrainingRecord.course_id),
        order_by=(TrainingRecord.completed_on.desc(), TrainingRecord.refresher_due.desc(), TrainingRecord.id.desc()),
    ).label("rank")
    ranked = sa.select(TrainingRecord.staff_member_id, TrainingRecord.course_id, TrainingRecord.completed_on,
                       TrainingRecord.refresher_due, rank).where(TrainingRecord.staff_member_id.in_(ids)).subquery()
    latest: dict[int, dict[int, tuple[date, date]]] = defaultdict(dict)
    for staff_id, course_id, completed_on, due in session.execute(
            sa.select(ranked.c.staff_member_id, ranked.c.course_id, ranked.c.completed_on, ranked.c.refresher_due)
            .where(ranked.c.rank == 1)):
        latest[staff_id][course_id] = (completed_on, due)
    courses = {course.id: course for course in session.scalars(sa.select(TrainingCourse))}
    prevent = {course_id for course_id, course in courses.items() if course.kind == CourseKind.prevent}
    result = {}
    for person in people:
        held = latest.get(person.id, {})
        prevent_held = [held[course_id] for course_id in held if course_id in prevent]
        items: list[tuple[str, date | None]] = [
            (PREVENT_TRAINING, max(prevent_held)[1] if prevent_held else None)]
        required: set[int] = set()
        for role in roles.get(person.id, ()):
            required |= by_role.get(role, set())
        if person.team:
            required |= by_team.get(person.team.lower(), set())
        items += [(courses[course_id].name, held[course_id][1] if course_id in held else None)
                  for course_id in sorted(required)]
        dues = [due for _, due in items]
        result[person.id] = Standing(
            refresher_due=None if None in dues else min(d for d in dues if d is not None),
            any_held=bool(held),
            outstanding=[Outstanding(name, due) for name, due in items if due is None or due <= today + DUE_SOON])
    return result


# --- the Lead's requirements ----------------------------------------------------------------------------------

def requirements_page(session: Session, actor) -> Sequence[TrainingRequirement]:
    if not can(actor, "can_manage", "Training"):
        raise Forbidden()
    return active_requirements(session)


def add_requirement(actor, payload: Any) -> TrainingRequirement:
    """Requires a course of an app role or of a team (exactly one of them). Asked again for a requirement removed
    before, it is put back; one already in force is refused (409)."""
    if not can(actor, "can_manage", "Training"):
        raise Forbidden()
    with unit_of_work("training requirement") as session:
        form = REQUIREMENT.read(payload)
        course_id, role, team = form["course_id"], form["role"], form["team"]
        team = " ".join(team.split()) if team else None
        course = session.get(TrainingCourse, course_id) if course_id is not None else None
        if course_id is not None and (course is None or not course.active):
            form.error("course_id", "Choose a course from the list.")
        if role is not None and team:
            form.error("team", "Choose a role or a team, not both: add one requirement for each.")
        elif role is None and not team and "role" not in form.errors and "team" not in form.errors:
            form.error("role", "Choose the role, or the team, that needs this course.")
        form.check()
        who = TrainingRequirement.role == role if role is not None else \
            sa.func.lower(TrainingRequirement.team) == (team or "").lower()
        existing = session.scalar(sa.select(TrainingRequirement).where(TrainingRequirement.course_id == course_id,
                                                                         who).with_for_update())
        if existing is not None and existing.active:
            raise Conflict("This course is required of them already.")
        if existing is not None:
            existing.active = True
            audit.record(session, actor, "restore_training_requirement", existing)
            return existing
        requirement = TrainingRequirement(course_id=course_id, role=role, team=team, created_by_id=actor.id)
        session.add(requirement)
        session.flush()
        audit.record(session, actor, "add_training_requirement", requirement)
        return requirement


def remove_requirement(actor, requirement_id: int) -> TrainingRequirement:
    """No longer requires the course of that role or team (kept, inactive, for the record)."""
    if not can(actor, "can_manage", "Training"):
        raise Forbidden()
    with unit_of_work("training requirement") as session:
        requirement = session.get(TrainingRequirement, requirement_id, with_for_update=True)
        if requirement is None:
            raise NotFound("training requirement")
        if not requirement.active:
            raise Conflict("This requirement was removed already.")
        requirement.active = False
        audit.record(session, actor, "remove_training_requirement", requirement)
        return requirement
