"""Reference data (the Home Office categories, the provider's indicator table, training courses) and demo data.

Demo people, numbers and addresses are invented: the provider's policy names real people, who never appear here.
"""
from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app

from app.cases import statistics_schemes
from app.extensions import db
from app.kernel import audit
from app.kernel.security import ADMIN, DIRECTOR, GOVERNANCE, LEAD, OFFICER, STAFF
from app.kernel.uow import unit_of_work
from app.models import ConcernType, Indicator, IndicatorKind, Policy, PolicyVersion, StatisticsCategory, TrainingCourse

# The types of concern and the Home Office categories of each scheme they map to: app/cases/statistics_schemes.py.
CONCERN_TYPES = [seeded.label for seeded in statistics_schemes.SEEDED_TYPES]

INDICATORS = {
    IndicatorKind.contributory_factor: [
        "Rejected by peer, faith or social group/family",
        "Pressure from person linked to extremism",
        "Change in behaviour or appearance due to new influences",
        "Experience of poverty, disadvantage or social exclusion",
        "Conflict within family over religious beliefs, lifestyle or politics",
        "Identity confusion",
        "Recent religious conversion",
        "Extremist influences",
        "May possess literature related to extreme views",
        "Under achievement",
        "Victim or witness to race or religious hate crime",
        "A series of traumatic events, global, national or personal",
    ],
    IndicatorKind.vulnerability: [
        "Peer pressure",
        "Unsettled family life",
        "Need to belong/fit in",
        "Accessing extremist material",
        "Isolation and social exclusion",
        "Bullied",
        "Media influence",
        "Seeking purpose or focus for life",
        "Seeking revenge",
        "Seeking acceptance/social standing",
    ],
    IndicatorKind.indicator: [
        "Withdrawn",
        "Change in engagement levels",
        "Using extremist language, passionate about extremist views",
        "Preaching",
        "Change in appearance - dress/body art",
        "Change in behaviour within work and learning environment",
        "Change in social circles",
    ],
}


# Prevent training courses, extendable by the Prevent Lead.
TRAINING_COURSES = ["Home Office Prevent duty eLearning", "Channel awareness", "Prevent refresher"]


# The provider's policies with a first version each (owners are posts, dates invented); the Lead adds versions.
# (name, roles it applies to: None for everyone, label, owner, took effect, next review)
POLICIES = [
    ("Prevent policy", None, "4.0", "Prevent Lead", date(2026, 9, 1), date(2027, 8, 31)),
    ("Safeguarding policy", None, "7.2", "Designated Safeguarding Lead", date(2026, 9, 1), date(2027, 8, 31)),
    ("IT and online safety policy", None, "3.1", "Head of IT", date(2026, 4, 1), date(2027, 3, 31)),
    ("External speakers and events policy", [LEAD, OFFICER, DIRECTOR], "2.0", "Prevent Lead", date(2026, 1, 15),
     date(2027, 1, 14)),
]


def _seed_policies(session) -> int:
    added = 0
    existing = set(session.scalars(sa.select(Policy.name)))
    for position, (name, roles, label, owner, published_on, next_review_on) in enumerate(POLICIES):
        if name in existing:
            continue
        policy = Policy(name=name, applies_to_all=roles is None, roles="\n".join(roles) if roles else None,
                        position=position)
        session.add(policy)
        session.flush()
        audit.record(session, "system:seed", "add_policy", policy)
        version = PolicyVersion(policy_id=policy.id, label=label, owner=owner, published_on=published_on,
                                next_review_on=next_review_on)
        session.add(version)
        session.flush()
        audit.record(session, "system:seed", "add_policy_version", version)
        added += 1
    return added


def seed_reference() -> int:
    added = 0
    with unit_of_work("reference data") as session:
        added += _seed_concern_types(session)
        existing = set(session.execute(sa.select(Indicator.kind, Indicator.label)).tuples())
        for kind, labels in INDICATORS.items():
            for position, label in enumerate(labels):
                if (kind, label) not in existing:
                    session.add(Indicator(kind=kind, label=label, position=position))
                    added += 1
        existing_courses = set(session.scalars(sa.select(TrainingCourse.name)))
        for name in TRAINING_COURSES:
            if name not in existing_courses:
                session.add(TrainingCourse(name=name))
                added += 1
        added += _seed_policies(session)
    return added


def _seed_concern_types(session) -> int:
    """The categories of each scheme, the types of concern, and each type's category in each scheme where it has none
    yet. A type is retired (no longer offered; its cases keep it) when it is first mapped to the PCMT 2025 scheme and a
    PCMT type replaces it, so an administrator who brings one back is not overruled by the next seeding."""
    added = 0
    categories = {(c.scheme, c.label): c for c in session.scalars(sa.select(StatisticsCategory))}
    for scheme, labels in ((statistics_schemes.PRE_2025, statistics_schemes.PRE_2025_CATEGORIES),
                           (statistics_schemes.PCMT_2025, statistics_schemes.PCMT_2025_CATEGORIES)):
        for position, label in enumerate(labels):
            if (scheme, label) not in categories:
                categories[scheme, label] = StatisticsCategory(scheme=scheme, label=label, position=position)
                session.add(categories[scheme, label])
                added += 1
    types = {t.label: t for t in session.scalars(sa.select(ConcernType))}
    for position, seeded in enumerate(statistics_schemes.SEEDED_TYPES):
        concern_type = types.get(seeded.label)
        if concern_type is None:
            concern_type = ConcernType(label=seeded.label, position=position)
            session.add(concern_type)
            added += 1
        if concern_type.pre_2025_category is None:
            concern_type.pre_2025_category = categories[statistics_schemes.PRE_2025, seeded.pre_2025]
        if concern_type.pcmt_2025_category is None:
            concern_type.pcmt_2025_category = categories[statistics_schemes.PCMT_2025, seeded.pcmt_2025]
            if seeded.retired:
                concern_type.active = False
    return added


DEMO_USERS = [
    ("admin", "Ada", "Admin", ADMIN),
    ("lead", "Lee", "Lead", LEAD),
    ("officer", "Olu", "Officer", OFFICER),
    ("officer2", "Orla", "Officer", OFFICER),
    ("director", "Dev", "Director", DIRECTOR),
    ("staff", "Sid", "Staff", STAFF),
    ("staff2", "Sade", "Staff", STAFF),
    ("governance", "Gwen", "Governor", GOVERNANCE),
]


def seed_demo(password: str) -> None:
    from app.cases import actions
    from app.cases import use_cases as cases

    sm = current_app.appbuilder.sm
    users = {}
    for username, first, last, role_name in DEMO_USERS:
        users[username] = sm.add_user(username, first, last, f"{username}@example.org", sm.find_role(role_name),
                                      password)
        if not users[username]:
            raise RuntimeError(f"Could not add demo user {username}.")
    enrol_demo_second_factors(list(users.values()))
    indicator_ids = db.session.scalars(sa.select(Indicator.id).order_by(Indicator.id).limit(3)).all()
    type_ids = db.session.scalars(sa.select(ConcernType.id).where(ConcernType.active.is_(True))
                                 .order_by(ConcernType.position)).all()
    now = datetime.now(UTC)

    def concern(reporter: str, name: str, days_ago: int, **extra) -> int:
        subject = {"full_name": name, "subject_type": extra.pop("subject_type", "learner"),
                   "date_of_birth": extra.pop("date_of_birth", "2007-03-14"), "programme": "Level 3 Business"}
        payload = {"subject": subject, "description": extra.pop("description"),
                   "occurred_at": (now - timedelta(days=days_ago)).isoformat(), "location": "Bristol centre",
                   "indicator_ids": indicator_ids, "concern_type_id": type_ids[extra.pop("type_index", 9)],
                   "immediate_danger": False, **extra}
        return cases.raise_concern(users[reporter], payload).id

    def step(case_id: int, event: str, reason: str, who: str = "officer", **data) -> None:
        cases.transition(users[who], case_id, {"event": event, "reason": reason, **data})

    concern("staff", "Jordan Example", 1,
            description='Said in class: "they will all see what happens on Friday". Other learners were upset.')
    second = concern("staff", "Casey Sample", 6, type_index=1,
                     description="Shared extreme right-wing stickers with two learners during the break.")
    step(second, "acknowledge", "Concern received; gathering information from the tutor.")
    actions.add_action(users["officer"], second, {"title": "Speak to the tutor about recent behaviour",
                                                  "owner_id": users["officer"].id,
                                                  "due_date": (date.today() - timedelta(days=2)).isoformat()})
    urgent = concern("staff2", "Riley Placeholder", 3, type_index=0, immediate_danger=True, police_called=True,
                     police_incident_number="INC-000123",
                     description="Threatened to hurt people at the mosque; police were called from reception.")
    step(urgent, "acknowledge", "Urgent: police attended; reviewing with the Prevent Lead.")
    step(urgent, "refer_to_police", "Risk of radicalisation: referred to police Prevent with the NRF.",
         referral_date=date.today().isoformat(), subject_informed="no", police_reference="PRV-2026-77")
    supported = concern("staff", "Morgan Fictional", 60, type_index=3,
                        description="Watching mass-casualty attack videos and talking about them approvingly.")
    step(supported, "acknowledge", "Acknowledged.")
    step(supported, "refer_to_police", "Referred after talking to the learner and their tutor.",
         referral_date=(date.today() - timedelta(days=50)).isoformat(), subject_informed="yes")
    step(supported, "record_gateway_outcome", "Police gateway: refer to Channel.", outcome="channel",
         decided_on=(date.today() - timedelta(days=44)).isoformat())
    step(supported, "schedule_panel", "Panel booked with the local authority.",
         panel_date=(date.today() - timedelta(days=30)).isoformat(), local_authority="Bristol City Council")
    step(supported, "record_panel_decision", "Panel adopted the case; the learner consented.",
         decision="adopted", consent="given", consent_by="subject", intervention_provider="Intervention Provider A")
    # The police assessment is not a one-off check: police-led first, then escalated to Channel on new information.
    escalated = concern("staff2", "Avery Invented", 120, type_index=2,
                        description="Told a tutor that violence against a named group was justified.")
    step(escalated, "acknowledge", "Acknowledged.")
    step(escalated, "refer_to_police", "Referred to police Prevent with the NRF.",
         referral_date=(date.today() - timedelta(days=110)).isoformat(), subject_informed="yes")
    step(escalated, "record_gateway_outcome", "Police gateway: police-led case management.", outcome="police_led",
         decided_on=(date.today() - timedelta(days=104)).isoformat())
    step(escalated, "record_gateway_outcome", "Police assessed again after two new incidents: refer to Channel.",
         outcome="channel", decided_on=(date.today() - timedelta(days=7)).isoformat())
    closed = concern("staff2", "Jordan Example", 20, date_of_birth="2007-03-14",
                     description="Repeated a slogan from a video; on discussion it was a song lyric.")
    step(closed, "acknowledge", "Acknowledged.")
    step(closed, "close", "Spoke to the learner and tutor: no Prevent concern.", outcome="no_further_action")
    concern("staff2", "Taylor Colleague", 2, subject_type="staff", date_of_birth="1985-06-01",
            description="A colleague has been sharing extremist material in the staff group chat.")
    seed_training_demo(users)
    seed_employer_demo(users)
    seed_directory_demo(users)


def enrol_demo_second_factors(people: list) -> None:
    """With DEMO_TOTP_SECRET set, the demo users who must use a second factor share that secret (one entry in the
    demonstrator's authenticator app); without it they set up their own at first sign-in."""
    from app.identity import two_step
    from app.kernel.security import mfa_required

    secret = current_app.config.get("DEMO_TOTP_SECRET")
    if not secret:
        return
    for person in people:
        if mfa_required(person):
            two_step.enrol_with_secret(person, secret, actor="system:demo")


def seed_training_demo(users: dict) -> None:
    """Two teams on the staff list, with people who do not sign in; training that is current, due soon, expired."""
    from werkzeug.datastructures import FileStorage

    from app.training import imports as training_imports
    from app.training import use_cases as training

    def months_ago(months: int, days: int = 0) -> str:
        return (date.today() - relativedelta(months=months) - timedelta(days=days)).isoformat()

    def import_csv(kind: str, text: str) -> None:
        report = training_imports.check_import(users["lead"], {"kind": kind, "file": FileStorage(
            io.BytesIO(text.encode()), f"demo-{kind}.csv")})
        training_imports.run_import(users["lead"], report.upload_id, {"kind": kind})

    import_csv("staff", "full_name,email,employee_ref,team,manager_email\n"
                        "Sid Staff,staff@example.org,E1001,Business Admin,director@example.org\n"
                        "Sade Staff,staff2@example.org,E1002,Construction,director@example.org\n"
                        "Priya Example,,E2001,Business Admin,director@example.org\n"
                        "Tom Sample,tom.sample@example.org,E2002,Business Admin,\n"
                        "Ana Placeholder,ana.placeholder@example.org,E2003,Construction,director@example.org\n"
                        "Ben Fictional,,E2004,Construction,\n")
    course_ids = dict(db.session.execute(sa.select(TrainingCourse.name, TrainingCourse.id)).all())
    elearning, channel, refresher = TRAINING_COURSES
    current = training.record_completion(users["staff"], {
        "course_id": course_ids[elearning], "completed_on": months_ago(3), "certificate_ref": "HO-PREVENT-0001"})
    training.verify_record(users["officer"], current.id)
    training.record_completion(users["staff2"], {"course_id": course_ids[refresher],  # due within a fortnight
                                                 "completed_on": months_ago(23, 20)})
    training.record_completion(users["officer2"], {"course_id": course_ids[elearning],  # expired
                                                   "completed_on": months_ago(26)})
    import_csv("completions", "employee_ref,course,completed_on\n"
                              f"E2001,{elearning},{months_ago(6)}\n"
                              f"E2003,{channel},{months_ago(25)}\n"
                              f"E2004,{refresher},{months_ago(23, 25)}\n")
    training.sync_staff_with_sign_ins(users["lead"])


def seed_employer_demo(users: dict) -> None:
    """Three partner employers kept by the demo director: one up to date, one overdue, one not yet contacted."""
    from app.cases import subjects
    from app.employers import use_cases as employers

    director = users["director"]

    def employer(name: str, sector: str, contact: str, email: str) -> int:
        return employers.create_employer(director, {
            "name": name, "sector": sector, "address": f"1 {name.split()[0]} Way, Bristol BS1 0AA",
            "contact_name": contact, "contact_email": email, "contact_phone": "0117 000 0100"}).id

    def contact(employer_id: int, months_ago: int, method: str, shared: list[str], summary: str, by: str) -> None:
        on = (date.today() - relativedelta(months=months_ago)).isoformat()
        employers.log_communication(director, employer_id, {
            "occurred_on": on, "method": method, "shared": shared, "summary": summary,
            "acknowledged_on": on, "acknowledged_by": by})

    builders = employer("Harbourside Builders Ltd", "Construction", "Jamie Foreman",
                        "jamie.foreman@harbourside.example")
    contact(builders, 4, "meeting", ["policy", "briefing", "contacts"],
            "Briefed the site manager and HR; left the policy and our Safeguarding contacts.", "Jamie Foreman")
    care = employer("Northgate Care Homes", "Health and social care", "Morgan Lee", "morgan.lee@northgate.example")
    contact(care, 14, "email", ["policy", "contacts"], "Sent the policy and contacts; acknowledged by reply.",
            "Morgan Lee")
    employer("Riverside Office Supplies", "Retail", "Sam Rivers", "sam.rivers@riverside.example")
    subjects.create_subject(director, {"full_name": "Alex Apprentice", "subject_type": "learner",
                                       "programme": "Level 2 Bricklaying", "employer_id": builders})


def seed_directory_demo(users: dict) -> None:
    """A few invented contacts (no real people; drama-range numbers) for three local authorities, Bristol's matching
    the demo case whose Channel panel it scheduled."""
    from app.directory import use_cases as directory

    lead = users["lead"]
    contacts = [
        ("police_prevent", "Prevent team, south-west (demo)", "Pat Demo, Prevent engagement officer",
         "0117 496 0101", "prevent.sw@police.example", "Bristol City Council\nSouth Gloucestershire", "BS1 BS2 BS16",
         None, "Weekdays 8am to 6pm; out of hours call 101 and ask for Prevent."),
        ("channel_lead", "Channel lead, Bristol (demo)", "Bristol City Council", "0117 496 0102",
         "channel@bristol.example", "Bristol City Council", "BS1 BS2", None, None),
        ("mash", "First Response, Bristol (demo)", "Bristol City Council", "0117 496 0103",
         "first.response@bristol.example", "Bristol City Council", None, None,
         "For a learner under 18: send a copy of the referral here as well."),
        ("police_prevent", "Prevent team, Greater Manchester (demo)", "Robin Sample, Prevent officer",
         "0161 496 0104", "prevent.gm@police.example", "Manchester\nSalford\nTrafford", "M1 M2 M3 M4 M5 SK4",
         None, None),
        ("channel_lead", "Channel lead, Manchester (demo)", "Manchester City Council", "0161 496 0105",
         "channel@manchester.example", "Manchester", "M1 M2 M3 M4", None, None),
        ("dfe_coordinator", "Regional Prevent coordinator, North West (demo)", "Department for Education",
         "0161 496 0106", "prevent.nw@education.example", "Manchester\nSalford\nTrafford\nLiverpool", None,
         "North West", "Advice for the provider on the Prevent duty; not for individual referrals."),
        ("dfe_coordinator", "Regional Prevent coordinator, Yorkshire and the Humber (demo)",
         "Department for Education", "0113 496 0107", "prevent.yh@education.example", "Leeds\nBradford\nSheffield",
         None, "Yorkshire and the Humber", None),
        ("police_prevent", "Prevent team, West Yorkshire (demo)", "Sam Placeholder, Prevent officer",
         "0113 496 0108", "prevent.wy@police.example", "Leeds\nBradford", "LS1 LS2 BD1", None, None),
    ]
    for kind, name, organisation, phone, email, authorities, districts, region, notes in contacts:
        directory.add_contact(lead, {"kind": kind, "name": name, "organisation": organisation, "phone": phone,
                                     "email": email, "local_authorities": authorities,
                                     "postcode_districts": districts, "region": region, "notes": notes})
