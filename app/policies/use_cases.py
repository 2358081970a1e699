"""The policy register and who has read what (issue 14, point 4).

Every employee reads the register and confirms "I have read version X" of a policy; a confirmation is per person per
version, audited, and only ever one's own. A policy's current version is its latest: a new version (the Prevent Lead
adds it) asks everyone it applies to again, since a confirmation of an earlier version does not count for it.

Whom a policy applies to is one rule, `applies`: everyone, or anyone with one of its roles or in one of its teams
(the team of their entry on the staff list, app/training). The Prevent policy applies to everyone, always.

Compliance counts the active staff list as training compliance does (app/training/use_cases.py): a person is up to
date when they have confirmed the current version of every policy that applies to them; someone on the list without a
sign-in here cannot confirm, and counts as not up to date. Figures need `can_read PolicyCompliance` (officers, the
Lead, Governance); the names of who has not read come only with `can_read_all Policy` (officers and the Lead).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.kernel import audit
from app.kernel.errors import Conflict, Forbidden, NotFound, StaleVersion
from app.kernel.schemas import Loaded
from app.kernel.security import ROLE_MATRIX, can
from app.kernel.uow import unit_of_work
from app.models import Policy, PolicyConfirmation, PolicyVersion, StaffMember, User, utcnow
from app.policies.schemas import APPLIES, CONFIRM, VERSION
from app.training.use_cases import NO_TEAM, active_staff_clause

PREVENT_POLICY = "Prevent policy"  # applies to everyone (the Prevent duty guidance)
EVERYONE_MESSAGE = "The Prevent policy applies to everyone."


def role_names(user: User | None) -> set[str]:
    return {role.name for role in user.roles} if user is not None else set()


def applies(policy: Policy, roles: set[str], team: str | None) -> bool:
    """The one rule: whether `policy` applies to someone with these roles in this team."""
    if policy.applies_to_all:
        return True
    return bool(roles & set(policy.role_list)) or (team is not None and team in policy.team_list)


def _policies(session: Session) -> list[Policy]:
    return list(session.scalars(sa.select(Policy).options(selectinload(Policy.versions))
                                .order_by(Policy.position, Policy.name)).all())


def register(session: Session, actor) -> list[Policy]:
    """Every policy with its versions, newest first."""
    if not can(actor, "can_read", "Policy"):
        raise Forbidden()
    return _policies(session)


def get_policy(session: Session, actor, policy_id: int) -> Policy:
    if not can(actor, "can_read", "Policy"):
        raise Forbidden()
    policy = session.scalar(sa.select(Policy).where(Policy.id == policy_id).options(selectinload(Policy.versions)))
    if policy is None or policy.current is None:
        raise NotFound("policy")
    return policy


@dataclass
class MyPolicy:
    """A policy as one person sees it: its current version, whether it applies to them, and their confirmations."""

    policy: Policy
    applies: bool
    confirmed_at: datetime | None  # of the current version
    earlier: str | None  # the label of the latest earlier version they confirmed, when not the current one

    @property
    def current(self) -> PolicyVersion:
        assert self.policy.current is not None  # every policy has a version (added with its first)
        return self.policy.current


def _own_team(session: Session, actor) -> str | None:
    return session.scalar(sa.select(StaffMember.team).where(StaffMember.user_id == actor.id))


def my_policies(session: Session, actor) -> list[MyPolicy]:
    """Every policy, those that apply to the actor first, with the actor's own confirmations (nobody else's)."""
    if not can(actor, "can_read", "Policy"):
        raise Forbidden()
    policies = [p for p in _policies(session) if p.current is not None]
    confirmed: dict[int, datetime] = dict(session.execute(
        sa.select(PolicyConfirmation.policy_version_id, PolicyConfirmation.confirmed_at)
        .where(PolicyConfirmation.user_id == actor.id)).tuples().all())
    roles, team = role_names(actor), _own_team(session, actor)
    mine = []
    for policy in policies:
        current = policy.current
        assert current is not None
        earlier = next((v.label for v in policy.versions[1:] if v.id in confirmed), None)
        mine.append(MyPolicy(policy, applies(policy, roles, team), confirmed.get(current.id),
                             None if current.id in confirmed else earlier))
    return sorted(mine, key=lambda m: (not m.applies, m.policy.position, m.policy.name))


def my_policy(session: Session, actor, policy_id: int) -> MyPolicy:
    for mine in my_policies(session, actor):
        if mine.policy.id == policy_id:
            return mine
    raise NotFound("policy")


def confirm(actor, policy_id: int, payload: Any) -> MyPolicy:
    """"I have read version X": X must be the policy's current version (409 otherwise, naming it). Confirming again
    changes nothing."""
    if not can(actor, "can_confirm", "Policy"):
        raise Forbidden()
    with unit_of_work("policy") as session:
        policy = get_policy(session, actor, policy_id)
        form = CONFIRM.read(payload)
        form.check()
        current = policy.current
        assert current is not None
        if form["version"] != current.label:
            raise Conflict(f"Version {form['version']} is not the current version of the {policy.name}: version "
                           f"{current.label} is. Read version {current.label}, then confirm it.")
        done = session.scalar(sa.select(PolicyConfirmation.id).where(
            PolicyConfirmation.policy_version_id == current.id, PolicyConfirmation.user_id == actor.id))
        if done is None:
            confirmation = PolicyConfirmation(policy_version_id=current.id, user_id=actor.id, confirmed_at=utcnow())
            try:
                with session.begin_nested():  # the same confirmation twice at once (a double click): one stands
                    session.add(confirmation)
                    session.flush()
                    audit.record(session, actor, "confirm_policy_read", confirmation,
                                 extra_changes={"policy": (None, policy.name), "version": (None, current.label)})
            except IntegrityError:
                pass
    return my_policy(session, actor, policy_id)


# --- the Lead's register ------------------------------------------------------------------------------------------

def _for_change(session: Session, actor, policy_id: int) -> Policy:
    if not can(actor, "can_manage", "Policy"):
        raise Forbidden()
    policy = session.scalar(sa.select(Policy).where(Policy.id == policy_id).options(selectinload(Policy.versions)))
    if policy is None:
        raise NotFound("policy")
    return policy


def _lines(text: str | None) -> list[str]:
    names: list[str] = []
    for line in (text or "").splitlines():
        name = " ".join(line.split())
        if name and name not in names:
            names.append(name)
    return names


def _applies_fields(form: Loaded, name: str | None) -> dict[str, Any]:
    everyone = bool(form.get("applies_to_all", False))
    roles, teams = _lines(form["roles"]), _lines(form["teams"])
    unknown = [role for role in roles if role not in ROLE_MATRIX]
    if unknown:
        form.error("roles", "Choose from the roles: " + ", ".join(ROLE_MATRIX) + ".")
    if name == PREVENT_POLICY and not everyone:
        form.error("applies_to_all", EVERYONE_MESSAGE)
    elif not everyone and not roles and not teams and "roles" not in form.errors and "teams" not in form.errors:
        form.error("applies_to_all", "Choose everyone, or name the roles or teams the policy applies to.")
    return {"applies_to_all": everyone, "roles": None if everyone else ("\n".join(roles) or None),
            "teams": None if everyone else ("\n".join(teams) or None)}


def _version_fields(form: Loaded, policy: Policy | None) -> dict[str, Any]:
    values = {name: form[name] for name in ("label", "owner", "published_on", "next_review_on", "summary",
                                            "document_url")}
    if policy is not None and values["label"] and any(v.label == values["label"] for v in policy.versions):
        form.error("label", f"The {policy.name} has a version {values['label']} already.")
    if values["published_on"] and values["next_review_on"] and values["next_review_on"] <= values["published_on"]:
        form.error("next_review_on", "The next review must be after the date the version takes effect.")
    return values


def add_version(actor, policy_id: int, payload: Any) -> PolicyVersion:
    """A new version of a policy: it becomes the current one, and everyone it applies to is asked again."""
    with unit_of_work("policy") as session:
        policy = _for_change(session, actor, policy_id)
        form = VERSION.read(payload)
        values = _version_fields(form, policy)
        form.check()
        version = PolicyVersion(policy_id=policy.id, **values, added_by_id=actor.id, added_at=utcnow())
        session.add(version)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(f"Someone added version {values['label']} at the same moment: reload the register.") \
                from None
        audit.record(session, actor, "add_policy_version", version, extra_changes={"policy": (None, policy.name)})
        return version


def set_applies(actor, policy_id: int, payload: Any) -> Policy:
    """Whom a policy applies to; with `version`, refused (409) if someone changed it since."""
    with unit_of_work("policy") as session:
        policy = _for_change(session, actor, policy_id)
        form = APPLIES.read(payload)
        values = _applies_fields(form, policy.name)
        form.check()
        if form["version"] is not None and form["version"] != policy.version:
            raise StaleVersion(what="policy")
        for name, value in values.items():
            setattr(policy, name, value)
        audit.record(session, actor, "change_policy_applies", policy)
        return policy


# --- compliance ---------------------------------------------------------------------------------------------------

@dataclass
class Figures:
    """Staff up to date (every policy that applies to them read in its current version) out of active staff."""

    label: str
    active: int = 0
    up_to_date: int = 0

    @property
    def percent(self) -> float | None:
        return round(100 * self.up_to_date / self.active, 1) if self.active else None


@dataclass
class PolicyFigures:
    """One policy's current version: how many it applies to, how many have confirmed reading it."""

    policy: Policy
    version: PolicyVersion
    applies: int = 0
    read: int = 0

    @property
    def percent(self) -> float | None:
        return round(100 * self.read / self.applies, 1) if self.applies else None


@dataclass
class Outstanding:
    """Someone who has not confirmed the current version of a policy that applies to them."""

    staff: StaffMember
    policies: list[str] = field(default_factory=list)

    @property
    def team(self) -> str:
        return self.staff.team or NO_TEAM


@dataclass
class Compliance:
    today: date
    overall: Figures
    teams: list[Figures]
    policies: list[PolicyFigures]
    outstanding: list[Outstanding] | None  # None for a reader of the figures only


def compliance(session: Session, actor, today: date | None = None) -> Compliance:
    if not can(actor, "can_read", "PolicyCompliance"):
        raise Forbidden()
    today = today or date.today()
    policies = [p for p in _policies(session) if p.current is not None]
    current_ids = [p.current.id for p in policies if p.current is not None]
    read = set(session.execute(sa.select(PolicyConfirmation.policy_version_id, PolicyConfirmation.user_id)
                               .where(PolicyConfirmation.policy_version_id.in_(current_ids))).tuples())
    staff = session.scalars(sa.select(StaffMember).where(active_staff_clause(today))
                            .options(selectinload(StaffMember.user).selectinload(User.roles))
                            .order_by(StaffMember.full_name, StaffMember.id)).all()
    overall = Figures("All staff")
    by_team: dict[str, Figures] = {}
    per_policy = [PolicyFigures(p, p.current) for p in policies if p.current is not None]
    outstanding: list[Outstanding] = []
    for person in staff:
        roles = role_names(person.user) if person.user is not None and person.user.active else set()
        missing = Outstanding(person)
        for figures in per_policy:
            if not applies(figures.policy, roles, person.team):
                continue
            figures.applies += 1
            if person.user_id is not None and (figures.version.id, person.user_id) in read:
                figures.read += 1
            else:
                missing.policies.append(figures.policy.name)
        team = by_team.setdefault(missing.team, Figures(missing.team))
        for group in (overall, team):
            group.active += 1
            group.up_to_date += not missing.policies
        if missing.policies:
            outstanding.append(missing)
    teams = sorted(by_team.values(), key=lambda f: (f.label == NO_TEAM, f.label))
    named = can(actor, "can_read_all", "Policy")
    return Compliance(today, overall, teams, per_policy, outstanding if named else None)


def evidence(session: Session, actor, start: date, end: date) -> dict[str, Any]:
    """Policy-read compliance for the evidence pack (issue 14, point 7): figures only, no names.

    `as_of`: compliance is as it stands when the pack is made (who has read each current version now);
    `versions_in_period`: the versions that took effect between `start` and `end` (inclusive);
    `confirmations_in_period`: how many confirmations of reading were made in the period.
    Forbidden without `can_read PolicyCompliance`.
    """
    result = compliance(session, actor)

    def figures(f: Figures) -> dict[str, Any]:
        return {"label": f.label, "active": f.active, "up_to_date": f.up_to_date, "percent": f.percent}
    policies = _policies(session)
    versions = [{"policy": p.name, "version": v.label, "owner": v.owner, "published_on": v.published_on.isoformat()}
                for p in policies for v in sorted(p.versions, key=lambda v: (v.published_on, v.id))
                if start <= v.published_on <= end]
    begin = datetime.combine(start, time.min, tzinfo=UTC)
    finish = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    confirmations = session.scalar(sa.select(sa.func.count()).select_from(PolicyConfirmation).where(
        PolicyConfirmation.confirmed_at >= begin, PolicyConfirmation.confirmed_at < finish)) or 0
    return {
        "as_of": result.today.isoformat(), "period": {"from": start.isoformat(), "to": end.isoformat()},
        "overall": figures(result.overall), "teams": [figures(t) for t in result.teams],
        "policies": [{"policy": f.policy.name, "version": f.version.label, "owner": f.version.owner,
                      "next_review_on": f.version.next_review_on.isoformat(), "applies": f.applies, "read": f.read,
                      "percent": f.percent} for f in result.policies],
        "versions_in_period": versions, "confirmations_in_period": confirmations,
    }
