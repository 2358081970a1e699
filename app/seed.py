"""Reference data (the Home Office categories, the provider's indicator table) and demo data.

Demo people, numbers and addresses are invented: the provider's policy names real people, who never appear here.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import ConcernType, Indicator, IndicatorKind
from app.security import ADMIN, DIRECTOR, GOVERNANCE, LEAD, OFFICER, STAFF

CONCERN_TYPES = [
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


def seed_reference() -> int:
    added = 0
    existing_types = set(db.session.scalars(sa.select(ConcernType.label)))
    for position, label in enumerate(CONCERN_TYPES):
        if label not in existing_types:
            db.session.add(ConcernType(label=label, position=position))
            added += 1
    existing = set(db.session.execute(sa.select(Indicator.kind, Indicator.label)).tuples())
    for kind, labels in INDICATORS.items():
        for position, label in enumerate(labels):
            if (kind, label) not in existing:
                db.session.add(Indicator(kind=kind, label=label, position=position))
                added += 1
    db.session.commit()
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
    from app.services import actions, cases

    sm = current_app.appbuilder.sm
    users = {}
    for username, first, last, role_name in DEMO_USERS:
        users[username] = sm.add_user(username, first, last, f"{username}@example.org", sm.find_role(role_name),
                                      password)
        if not users[username]:
            raise RuntimeError(f"Could not add demo user {username}.")
    indicator_ids = db.session.scalars(sa.select(Indicator.id).order_by(Indicator.id).limit(3)).all()
    type_ids = db.session.scalars(sa.select(ConcernType.id).order_by(ConcernType.position)).all()
    now = datetime.now(timezone.utc)

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
         decision="adopted", consent="given", intervention_provider="Intervention Provider A")
    closed = concern("staff2", "Jordan Example", 20, date_of_birth="2007-03-14",
                     description="Repeated a slogan from a video; on discussion it was a song lyric.")
    step(closed, "acknowledge", "Acknowledged.")
    step(closed, "close", "Spoke to the learner and tutor: no Prevent concern.", outcome="no_further_action")
    concern("staff2", "Taylor Colleague", 2, subject_type="staff", date_of_birth="1985-06-01",
            description="A colleague has been sharing extremist material in the staff group chat.")
