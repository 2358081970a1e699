"""The Prevent awareness email to an employer's named contact, and its acknowledgement link: signed, single-use,
expiring, and recorded in the communication log when followed."""
from __future__ import annotations

import secrets
from datetime import date

import sqlalchemy as sa
from flask import current_app, render_template
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from app.employers.use_cases import default_next_contact, employer_for_work
from app.kernel import audit
from app.kernel.errors import Conflict, DomainError, Forbidden, InvalidData, StaleVersion
from app.kernel.security import can
from app.kernel.uow import unit_of_work
from app.models import (
    CommunicationMethod,
    EmployerCommunication,
    SharedItem,
)
from app.notifications import outbox

ACK_PATH = "/employer-acknowledgement"


ACK_SALT = "employer-ack"


ACK_ACTOR = "system:acknowledgement-link"


def _link_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=ACK_SALT)


def acknowledgement_url(communication: EmployerCommunication) -> str:
    token = _link_serializer().dumps([communication.id, communication.ack_nonce])
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}{ACK_PATH}/{token}"


def send_awareness_email(actor, employer_id: int) -> EmployerCommunication:
    """Emails the employer's Prevent contact the provider's commitment and its Safeguarding contacts, with a link to
    acknowledge it; logged as a communication (email; policy and contacts shared) in the same transaction."""
    if not can(actor, "can_edit", "Employer"):
        raise Forbidden()
    with unit_of_work("employer") as session:
        employer = employer_for_work(session, actor, employer_id)
        if not employer.active:
            raise Conflict("This employer is marked inactive: make it active before writing to it.")
        if not employer.contact_email:
            raise InvalidData({"contact_email": ["Add the Prevent contact's email address first."]})
        today = date.today()
        communication = EmployerCommunication(
            employer_id=employer.id, occurred_on=today, method=CommunicationMethod.email,
            shared=[SharedItem.policy.value, SharedItem.contacts.value],
            summary=f"Prevent awareness email sent from Prevent Casework to {employer.contact_email}.",
            next_contact_due=default_next_contact(today), ack_nonce=secrets.token_urlsafe(32),
            created_by_id=actor.id)
        session.add(communication)
        session.flush()
        provider = current_app.config["PROVIDER_NAME"]
        email = outbox.queue(
            session, kind="employer_awareness", to_address=employer.contact_email, digestible=False,
            subject=f"{provider}: our Prevent duty, and who to contact",
            body=render_template("email/employer_awareness.txt", provider=provider, employer=employer,
                                 contacts=current_app.config["SAFEGUARDING_CONTACTS"],
                                 link=acknowledgement_url(communication),
                                 link_days=current_app.config["EMPLOYER_ACK_LINK_DAYS"]))
        session.flush()
        assert email is not None  # queued without a dedupe key: always queued
        communication.outbox_email_id = email.id
        audit.record(session, actor, "send_awareness_email", communication)
        return communication


class AcknowledgementLinkRefused(DomainError):
    """The link cannot record an acknowledgement; the message says why, politely, to someone with no account."""

    title = ""
    message = ""

    def __init__(self):
        super().__init__(self.message)


class LinkAltered(AcknowledgementLinkRefused):
    status_code = 400
    title = "This link does not work"
    message = ("This link is incomplete or has been changed. Open it again from the email, copying the whole "
               "address, or reply to the email and we will record your acknowledgement.")


class LinkExpired(AcknowledgementLinkRefused):
    status_code = 410
    title = "This link has expired"
    message = ("This link has expired, so nothing was recorded. Reply to the email and we will record your "
               "acknowledgement, or send you a new link.")


class LinkUsed(AcknowledgementLinkRefused):
    status_code = 410
    title = "Already recorded"
    message = "This acknowledgement has been recorded already. Thank you: there is nothing more to do."


def _communication_for_link(session: Session, token: str) -> EmployerCommunication:
    max_age = current_app.config["EMPLOYER_ACK_LINK_DAYS"] * 24 * 60 * 60
    try:
        communication_id, nonce = _link_serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkExpired() from None
    except (BadData, ValueError, TypeError):
        raise LinkAltered() from None
    communication = session.scalar(sa.select(EmployerCommunication).where(
        EmployerCommunication.id == communication_id, EmployerCommunication.ack_nonce == nonce))
    if communication is None:  # the nonce is cleared once the acknowledgement is recorded
        raise LinkUsed()
    return communication


def acknowledgement_request(session: Session, token: str) -> EmployerCommunication:
    """What the link is for, to show before anything is recorded (mail scanners open links)."""
    return _communication_for_link(session, token)


def acknowledge_by_link(token: str) -> EmployerCommunication:
    """Records the acknowledgement the link was sent for, once: it is then spent."""
    try:
        with unit_of_work("communication") as session:
            communication = _communication_for_link(session, token)
            communication.acknowledged_on = date.today()
            communication.acknowledged_by = communication.employer.contact_name or communication.employer.contact_email
            communication.ack_nonce = None
            audit.record(session, ACK_ACTOR, "acknowledge_by_link", communication)
            return communication
    except StaleVersion:  # the same link, sent twice at once: the other request recorded it
        raise LinkUsed() from None
