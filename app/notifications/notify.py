"""Who hears what, and when. Every email goes through the outbox, inside the caller's transaction.

An email is the leakiest place for Prevent data, so every text here is built from the case reference, dates and
general words only: never a name, a date of birth, free text, an indicator or a type of concern. Recipients sign in
to read the rest.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import holidays
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy.orm import Session

from app.employers import use_cases as employers
from app.kernel.security import LEAD, CaseAccess, can, case_access, case_workers, full_access_clause
from app.models import (
    ActionStatus,
    Case,
    CaseAction,
    CaseEntry,
    CaseStatus,
    EmailStatus,
    OutboxEmail,
    Role,
    User,
    stalled_clause,
    utcnow,
)
from app.notifications import outbox
from app.risks import use_cases as risks
from app.training import use_cases as training

FOOTER = "\n\nThis email deliberately carries no personal details. Sign in to read the case."

# What each kind of email is, for the chronology and for each user's "what I receive" page.
KINDS = {
    "new_concern": "a new concern was raised",
    "acknowledged": "your concern was acknowledged",
    "information_added": "the person who raised a concern added information to it",
    "action_assigned": "an action was given to them",
    "break_glass": "the Prevent Lead opened a restricted case they work on, outside the Lead's access",
    "action_overdue": "their action is overdue",
    "risk_action_overdue": "their action in the Prevent risk assessment's plan is overdue",
    "review_due": "a post-support review falls due",
    "police_outcome_overdue": "no police gateway outcome after 10 working days",
    "digest": "the daily digest",
    "employer_due": "an employer they keep is due a Prevent contact",
    "employer_awareness": "the Prevent awareness email, to an employer's Prevent contact",
    "training_due_soon": "their Prevent training refresher falls due within 30 days",
    "training_overdue": "their Prevent training is overdue",
    "training_overdue_staff": "someone they manage (or with no manager) has overdue Prevent training",
    "account_change": "a user account or role changed, or a role waits for approval; or an Admin changed their own "
                      "account's email address or password",
    "speaker_request": "an external speaker or event waits for approval",
    "speaker_decision": "a request they made for an external speaker or event was decided",
}


def public_url(path: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def case_link(case_id: int) -> str:
    return public_url(f"/cases/{case_id}")


def _case_team(session: Session, case: Case) -> list[User]:
    """The officers and the Lead who may work on this case (for a restricted case: the Lead and those granted)."""
    return [person for person in case_workers(session)
            if can(person, "can_transition") and case_access(session, person, case.id) is CaseAccess.FULL]


# --- at once, from the services -------------------------------------------------------------------------------

def concern_raised(session: Session, case: Case) -> None:
    urgent = case.urgent
    subject = f"{'URGENT: ' if urgent else ''}New Prevent concern {case.reference}"
    body = ("A new concern was raised" +
            (" and marked urgent: someone may be in immediate danger." if urgent else ".") +
            f"\n\nRead it and acknowledge it: {case_link(case.id)}" + FOOTER)
    for person in _case_team(session, case):
        outbox.queue(session, kind="new_concern", recipient=person, subject=subject, body=body, case_id=case.id,
                     urgent=urgent)


def information_added(session: Session, case: Case) -> None:
    """The reporter added to their concern: its officers hear at once, as of a new concern (urgent if the case is)."""
    subject = f"{'URGENT: ' if case.urgent else ''}New information on Prevent concern {case.reference}"
    body = ("The person who raised this concern has added information to it."
            f"\n\nRead it in the chronology: {case_link(case.id)}#chronology" + FOOTER)
    for person in _case_team(session, case):
        outbox.queue(session, kind="information_added", recipient=person, subject=subject, body=body,
                     case_id=case.id, urgent=case.urgent)


def after_transition(session: Session, case: Case, event: str) -> None:
    if event == "acknowledge":
        outbox.queue(session, kind="acknowledged", recipient=case.reporter, case_id=case.id,
                     subject=f"Your concern {case.reference} was acknowledged",
                     body=("A Safeguarding Officer has acknowledged the concern you raised and is looking into it. "
                           f"Thank you for raising it.\n\nYou can see its status here: {case_link(case.id)}" + FOOTER))


def glass_broken(session: Session, case: Case, lead: User) -> None:
    """The others who work on a restricted case hear at once that the Lead opened it outside their access."""
    for person in _case_team(session, case):
        if person.id != lead.id:
            outbox.queue(session, kind="break_glass", recipient=person, case_id=case.id, urgent=True,
                         subject=f"Restricted case {case.reference} opened by the Prevent Lead",
                         body=(f"The Prevent Lead opened the restricted case {case.reference}, which they had not "
                               "been given, and recorded why. Sign in to read who, when and why on the case page: "
                               f"{case_link(case.id)}" + FOOTER))


def action_assigned(session: Session, action: CaseAction, case: Case) -> None:
    outbox.queue(session, kind="action_assigned", recipient=action.owner, case_id=case.id,
                 subject=f"An action for you on {case.reference}",
                 body=(f"An action on case {case.reference} was given to you, due {action.due_date:%d %b %Y}."
                       f"\n\n{case_link(case.id)}" + FOOTER))


def account_changed(session: Session, what: str) -> None:
    """Every change to users and roles is told to the Prevent Lead(s): what kind of change, and where to read who
    made it, for whom and why (app/identity/accounts.py). No names here either."""
    leads = session.scalars(sa.select(User).where(User.active.is_(True), User.roles.any(Role.name == LEAD))
                            .order_by(User.id)).all()
    for lead in leads:
        outbox.queue(session, kind="account_change", recipient=lead, subject="A user account or role changed",
                     body=(f"{what}\n\nRead who did it, for whom and why, and decide any request waiting for "
                           f"approval: {public_url('/role-grants/')}\n\nThis email deliberately carries no names."))



def own_account_changed(session: Session, address: str, what: str) -> None:
    """The person whose email address or password an Admin changed hears of it (at the address they had), so that
    nobody takes over an account unnoticed."""
    outbox.queue(session, kind="account_change", to_address=address, subject="Your account was changed",
                 body=(f"{what}\n\nIf you did not ask for this, tell the Prevent Lead at once."
                       "\n\nThis email deliberately carries no names."))


# --- reminders: worked out once a day by `flask reminders run` --------------------------------------------------

@lru_cache(maxsize=8)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def add_working_days(start: date, days: int) -> date:
    """`days` working days after `start`: weekends and bank holidays in England do not count."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in _bank_holidays(current.year):
            days -= 1
    return current


@dataclass
class ReminderReport:
    queued: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, email: OutboxEmail | None) -> None:
        if email is not None:
            self.queued[kind] = self.queued.get(kind, 0) + 1

    def __str__(self) -> str:
        if not self.queued:
            return "Nothing new fell due."
        return "Queued: " + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(self.queued.items()))


def run_reminders(session: Session, today: date) -> ReminderReport:
    """Queues what has fallen due by `today`. Each reminder has a key, so a second run the same day adds nothing."""
    report = ReminderReport()
    _overdue_actions(session, today, report)
    _overdue_risk_actions(session, today, report)
    _reviews(session, today, report)
    _police_outcomes(session, today, report)
    _employers_due(session, today, report)
    _training_due(session, today, report)
    _digests(session, today, report)
    return report


def _overdue_actions(session: Session, today: date, report: ReminderReport) -> None:
    overdue = session.scalars(sa.select(CaseAction).join(Case).where(
        CaseAction.status == ActionStatus.open, CaseAction.due_date < today, Case.status != CaseStatus.closed)).all()
    for action in overdue:
        report.add("action_overdue", outbox.queue(
            session, kind="action_overdue", recipient=action.owner, case_id=action.case_id,
            dedupe_key=f"action_overdue:{action.id}",
            subject=f"Overdue action on {action.case.reference}",
            body=(f"An action of yours on case {action.case.reference} is overdue: it was due "
                  f"{action.due_date:%d %b %Y}.\n\n{case_link(action.case_id)}" + FOOTER)))


def _overdue_risk_actions(session: Session, today: date, report: ReminderReport) -> None:
    """An action of the risk assessment's plan (app/risks) past its due date: its owner hears once. The Prevent Lead
    sees every overdue one in the daily digest and on the oversight page. No case data: the action's own words."""
    for action in risks.overdue_actions(session, today):
        if not action.owner.active:
            continue
        where = (f"\n\n{public_url(f'/risk/{action.risk_id}')}" if risks.may_read(action.owner) else
                 "\n\nTell the Prevent Lead when it is done.")
        report.add("risk_action_overdue", outbox.queue(
            session, kind="risk_action_overdue", recipient=action.owner,
            dedupe_key=f"risk_action_overdue:{action.id}",
            subject="Overdue action in the Prevent risk assessment",
            body=(f"An action of yours in the Prevent risk assessment's action plan is overdue: \"{action.title}\", "
                  f"due {action.due_date:%d %b %Y}.{where}")))


REVIEWS = (("6_months", "6-month", relativedelta(months=6)), ("12_months", "12-month", relativedelta(months=12)))
REVIEW_NOTICE = timedelta(days=14)


def _recorded_reviews(session: Session, case_id: int) -> set[str]:
    entries = session.scalars(sa.select(CaseEntry).where(CaseEntry.case_id == case_id,
                                                         CaseEntry.kind == "transition")).all()
    return {entry.data.get("review") for entry in entries if entry.data and entry.data.get("review")}


def _reviews(session: Session, today: date, report: ReminderReport) -> None:
    """After support ends, the 6- and 12-month reviews: 14 days before, and on the day (until recorded)."""
    waiting = session.scalars(sa.select(Case).where(Case.status == CaseStatus.post_exit_review,
                                                    Case.exit_date.is_not(None))).all()
    for case in waiting:
        done = _recorded_reviews(session, case.id)
        for review, label, after in REVIEWS:
            due = case.exit_date + after
            if review in done or today < due - REVIEW_NOTICE:
                continue
            stage, when = ("due", "is due today") if today >= due else ("notice", f"falls due on {due:%d %b %Y}")
            if stage == "due" and today > due:
                when = f"was due on {due:%d %b %Y}"
            for person in _case_team(session, case):
                report.add("review_due", outbox.queue(
                    session, kind="review_due", recipient=person, case_id=case.id,
                    dedupe_key=f"review_due:{case.id}:{review}:{stage}:{person.id}",
                    subject=f"{label.capitalize()} review {'due' if stage == 'due' else 'coming up'}: {case.reference}",
                    body=(f"The {label} post-support review of case {case.reference} {when}.\n\n"
                          f"{case_link(case.id)}" + FOOTER)))


def _police_outcomes(session: Session, today: date, report: ReminderReport) -> None:
    """A referral with no gateway outcome after the set number of working days: the officer who referred it."""
    days = current_app.config["POLICE_OUTCOME_WORKING_DAYS"]
    waiting = session.scalars(sa.select(Case).where(Case.status == CaseStatus.referred_to_police,
                                                    Case.referral_date.is_not(None))).all()
    for case in waiting:
        if today < add_working_days(case.referral_date, days):
            continue
        referral = session.scalars(sa.select(CaseEntry).where(
            CaseEntry.case_id == case.id, CaseEntry.to_status == CaseStatus.referred_to_police.value)
            .order_by(CaseEntry.at.desc(), CaseEntry.id.desc()).limit(1)).first()
        if referral is None or not referral.actor.is_active:
            continue
        report.add("police_outcome_overdue", outbox.queue(
            session, kind="police_outcome_overdue", recipient=referral.actor, case_id=case.id,
            dedupe_key=f"police_outcome_overdue:{case.id}:{case.referral_date.isoformat()}",
            subject=f"No police outcome yet for {case.reference}",
            body=(f"Case {case.reference} was referred to the police Prevent team on {case.referral_date:%d %b %Y}, "
                  f"and no gateway outcome has been recorded after {days} working days. Chase the police Prevent "
                  f"team and record the outcome.\n\n{case_link(case.id)}" + FOOTER)))


def _employers_due(session: Session, today: date, report: ReminderReport) -> None:
    """Once each time an employer falls due (its next contact date, or a year since its last acknowledgement), to
    its programme director. No employer name: the link shows which one to someone signed in."""
    for employer, standing in employers.due_for_contact(session, today):
        report.add("employer_due", outbox.queue(
            session, kind="employer_due", recipient=employer.director,
            dedupe_key=f"employer_due:{employer.id}:{standing.due_on.isoformat()}",
            subject="An employer is due a Prevent contact",
            body=("An employer you are responsible for is due a Prevent contact. Log the contact, or send the "
                  f"awareness email, from its page:\n\n{public_url(f'/employers/{employer.id}')}"
                  "\n\nThis email deliberately names no one. Sign in to see the employer.")))


def _training_due(session: Session, today: date, report: ReminderReport) -> None:
    """Staff whose Prevent training refresher falls due within 30 days hear once; when it is overdue (or was never
    recorded) they hear once more, and so does their manager, or the Prevent Lead(s) when they have none. Staff
    without a sign-in are written to at their email on the staff list. Users new since the last run join the staff
    list first, so that nobody is missed for want of an entry."""
    training.sync_staff(session, "system:reminders")
    leads = training.overseers(session)
    for row in training.needing_training(session, today):
        staff, due = row.staff, row.refresher_due
        person = staff.user if staff.user is not None and staff.user.active else None
        address = None if person is not None else staff.email
        how = (f" on your training page:\n\n{public_url('/training/mine')}" if person is not None else
               ", and send your certificate to your manager or the Prevent Lead.")
        if row.status == training.TrainingStatus.due_soon:
            if person is not None or address:
                report.add("training_due_soon", outbox.queue(
                    session, kind="training_due_soon", recipient=person, to_address=address,
                    dedupe_key=f"training_due_soon:{staff.id}:{due.isoformat()}",
                    subject=f"Your Prevent training refresher is due by {due:%d %b %Y}",
                    body=f"Your Prevent duty training needs refreshing by {due:%d %b %Y}. Complete the refresher "
                         f"and record it{how}"))
            continue
        when = f"was due on {due:%d %b %Y}" if due else "has not been recorded"
        due_key = due.isoformat() if due else "never"
        if person is not None or address:
            report.add("training_overdue", outbox.queue(
                session, kind="training_overdue", recipient=person, to_address=address,
                dedupe_key=f"training_overdue:{staff.id}:{due_key}",
                subject="Your Prevent training is overdue",
                body=f"Your Prevent duty training {when}. Every member of staff completes it: please do it now, and "
                     f"record it{how}"))
        manager = staff.manager if staff.manager is not None and staff.manager.active else None
        for recipient in ([manager] if manager is not None else leads):
            if recipient.id == staff.user_id:
                continue
            # Named, unlike case email: a manager cannot look up others' training, and a training date is not case
            # data.
            link = (f"\n\n{public_url(f'/training/staff/{staff.id}')}"
                    if can(recipient, "can_read_all", "Training") else "")
            report.add("training_overdue_staff", outbox.queue(
                session, kind="training_overdue_staff", recipient=recipient,
                dedupe_key=f"training_overdue_staff:{staff.id}:{due_key}:{recipient.id}",
                subject=f"Prevent training overdue: {staff.full_name}",
                body=(f"The Prevent duty training of {staff.full_name} {when}. "
                      + ("You are their manager on the staff list" if manager is not None else
                         "No manager is on the staff list for them") +
                      f": please make sure they complete it.{link}")))


def stalled_cases(session: Session, user, now: datetime | None = None) -> list[tuple[Case, datetime]]:
    """Open cases this user works on with no entry in their chronology for STALLED_AFTER_DAYS: (case, last entry)."""
    last = sa.func.max(CaseEntry.at).label("last_at")
    rows = session.execute(
        sa.select(Case, last).join(CaseEntry, CaseEntry.case_id == Case.id)
        .where(stalled_clause(now or utcnow(), current_app.config["STALLED_AFTER_DAYS"]), full_access_clause(user))
        .group_by(Case.id).order_by(last)
    ).all()
    return [(case, at if at.tzinfo else at.replace(tzinfo=UTC)) for case, at in rows]


def _digests(session: Session, today: date, report: ReminderReport) -> None:
    """One email a day per person with something to say: for officers, every overdue action and stalled case they
    can see; for anyone who takes a digest, the non-urgent emails held for it."""
    held_for = set(session.scalars(sa.select(OutboxEmail.recipient_id).where(OutboxEmail.status == EmailStatus.held)))
    officers = {person.id: person for person in case_workers(session)}
    people = {**{person.id: person for person in session.scalars(sa.select(User).where(User.id.in_(held_for)))},
              **officers}
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    for person in people.values():
        lines: list[str] = []
        if person.id in officers:
            overdue = session.scalars(sa.select(CaseAction).join(Case).where(
                CaseAction.status == ActionStatus.open, CaseAction.due_date < today,
                Case.status != CaseStatus.closed, full_access_clause(person)).order_by(CaseAction.due_date)).all()
            lines += [f"Overdue action on {action.case.reference}, due {action.due_date:%d %b %Y}"
                      for action in overdue]
            lines += [f"Stalled: {case.reference} has had no activity since {at:%d %b %Y}"
                      for case, at in stalled_cases(session, person, now)]
            if risks.may_edit(person):
                lines += [f"Overdue risk assessment action, due {action.due_date:%d %b %Y}: {action.title}"
                          for action in risks.overdue_actions(session, today)]
        held = session.scalars(sa.select(OutboxEmail).where(OutboxEmail.recipient_id == person.id,
                                                            OutboxEmail.status == EmailStatus.held)
                               .order_by(OutboxEmail.id)).all()
        lines += [email.subject for email in held]
        if not lines:
            continue
        digest = outbox.queue(
            session, kind="digest", recipient=person, dedupe_key=f"digest:{today.isoformat()}:{person.id}",
            digestible=False, subject=f"Prevent casework: your daily digest for {today:%d %b %Y}",
            body="\n".join(f"- {line}" for line in lines) +
                 f"\n\nSign in: {current_app.config['PUBLIC_URL'].rstrip('/')}/" + FOOTER)
        report.add("digest", digest)
        if digest is not None:
            for email in held:
                email.status = EmailStatus.digested
                email.digest_id = digest.id


# --- what each person receives, for their "My email" page ---------------------------------------------------------

RECEIVES = (
    ("can_transition", "Case", "A new concern is raised (at once; marked urgent when someone is in immediate danger)."),
    ("can_transition", "Case", "The person who raised a concern adds information to it (at once)."),
    ("can_raise", "Case", "A Safeguarding Officer acknowledges a concern you raised."),
    ("can_manage_actions", "Case", "An action on a case is given to you, and again if it becomes overdue."),
    ("can_raise", "Case", "An action of the Prevent risk assessment's plan that you own becomes overdue."),
    ("can_edit", "Risk", "The daily digest lists the overdue actions of the Prevent risk assessment's plan."),
    ("can_transition", "Case", "The Prevent Lead opens a restricted case you work on outside their own access."),
    ("can_transition", "Case", "A 6- or 12-month post-support review falls due (14 days before, and on the day)."),
    ("can_transition", "Case", "A police referral you made has had no gateway outcome for 10 working days."),
    ("can_read_all", "Case", "A daily digest of overdue actions and stalled cases, when there are any."),
    ("can_edit", "Employer", "An employer you are responsible for falls due a Prevent contact."),
    ("can_record", "Training", "Your Prevent training refresher falls due within 30 days, and again if it is overdue."),
    ("can_record", "Training", "Someone you manage on the staff list has overdue Prevent training."),
    ("can_manage", "Training", "Someone with no manager on the staff list has overdue Prevent training."),
    ("can_review", "Case", "Any change to user accounts or roles, and any role waiting for a second person's "
                           "approval."),
    ("can_decide", "SpeakerRequest", "Someone asks for approval of an external speaker or event (at once)."),
    ("can_request", "SpeakerRequest", "An external speaker or event you asked for is approved or declined."),
)


def what_user_receives(user) -> list[str]:
    return [text for action, resource, text in RECEIVES if can(user, action, resource)]
