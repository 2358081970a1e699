"""The directory of Prevent contacts by area: who to call for a subject's local authority or postcode, wherever in
the country the learner is placed (the provider's policy, section 8). The Prevent Lead adds, changes and retires
contacts (each audited); officers and the Lead read them.

`contacts_for` is the one lookup, used by the API, the directory page and the case page's suggestions; `area_of`
is the one place that says where a case's subject is."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.directory.models import ContactKind, DirectoryContact
from app.directory.schemas import CONTACT
from app.kernel import audit, kept_lists
from app.kernel.errors import Forbidden, InvalidData, NotFound, StaleVersion
from app.kernel.postcodes import DISTRICT, outward_code
from app.kernel.schemas import Loaded
from app.kernel.security import can
from app.kernel.uow import unit_of_work
from app.models import Case, ReferralDetails

AUTHORITY_MAX = 200  # the longest local authority name looked up
KIND_ORDER = {kind: n for n, kind in enumerate(ContactKind)}
# The steps on the case page that suggest whom to call: two decisions and the parallel referral's form.
PARALLEL_REFERRAL = "parallel_referral"
SUGGESTED_AT = ("refer_to_police", "schedule_panel", PARALLEL_REFERRAL)


def authority_name(text: str) -> str:
    """A local authority's name as kept and compared: trimmed, one space between words."""
    return " ".join(text.split())


def contacts_for(session: Session, local_authority: str | None, postcode: str | None) -> list[DirectoryContact]:
    """The contacts in use for an area: those covering the local authority (its name in any case) or the postcode's
    district; with neither given, every contact in use. By kind (police, Channel lead, MASH, DfE), then name.
    InvalidData (422) for a postcode that is not one."""
    areas: list[sa.ColumnElement[bool]] = []
    if local_authority and len(local_authority) > AUTHORITY_MAX:
        raise InvalidData({"local_authority": [f"Keep this under {AUTHORITY_MAX} characters."]})
    if local_authority and local_authority.strip():
        wanted = "\n" + authority_name(local_authority).lower() + "\n"
        listed = sa.func.lower(sa.literal("\n") + DirectoryContact.local_authorities + "\n", type_=sa.Text)
        areas.append(listed.contains(wanted, autoescape=True))
    if postcode and postcode.strip():
        try:
            district = outward_code(postcode)
        except ValueError as exc:
            raise InvalidData({"postcode": [str(exc)]}) from None
        covered = sa.literal(" ") + sa.func.coalesce(DirectoryContact.postcode_districts, "") + " "
        areas.append(covered.contains(f" {district} ", autoescape=True))
    statement = sa.select(DirectoryContact).where(DirectoryContact.active.is_(True))
    if areas:
        statement = statement.where(sa.or_(*areas))
    return sorted(session.scalars(statement).all(), key=_order)


def _order(contact: DirectoryContact) -> tuple[int, str, int]:
    return KIND_ORDER[contact.kind], contact.name.lower(), contact.id


def find(session: Session, actor, local_authority: str | None = None,
         postcode: str | None = None) -> list[DirectoryContact]:
    """`contacts_for`, for someone who may read the directory (officers and the Prevent Lead)."""
    if not can(actor, "can_read", "Directory"):
        raise Forbidden()
    return contacts_for(session, local_authority, postcode)


def retired(session: Session, actor) -> list[DirectoryContact]:
    """The contacts taken out of use, for the Lead, who may put them back."""
    if not can(actor, "can_edit", "Directory"):
        raise Forbidden()
    return sorted(session.scalars(sa.select(DirectoryContact).where(DirectoryContact.active.is_(False))).all(),
                  key=_order)


def get_contact(session: Session, actor, contact_id: int) -> DirectoryContact:
    if not can(actor, "can_read", "Directory"):
        raise Forbidden()
    contact = session.get(DirectoryContact, contact_id)
    if contact is None:
        raise NotFound("contact")
    return contact


# --- the case page's suggestions ------------------------------------------------------------------------------

def area_of(session: Session, case: Case) -> tuple[str | None, str | None]:
    """Where the case's subject is, as (local authority, postcode): the one place that says so. Where they live, from
    the referral form's details; else the local authority recorded when the Channel panel was scheduled."""
    details = session.get(ReferralDetails, case.id)
    local_authority = (details.local_authority if details else None) or case.local_authority or ""
    return authority_name(local_authority) or None, (details.postcode if details else None) or None


def contacts_for_case(session: Session, case: Case) -> tuple[str | None, str | None, list[DirectoryContact]]:
    """The case's area and the contacts in use for it (none when no area is recorded)."""
    local_authority, postcode = area_of(session, case)
    if not local_authority and not postcode:
        return None, None, []
    try:
        return local_authority, postcode, contacts_for(session, local_authority, postcode)
    except InvalidData:  # a postcode kept in a form that is not one: the local authority still finds its contacts
        return local_authority, None, contacts_for(session, local_authority, None) if local_authority else []


@dataclass(frozen=True)
class Suggestions:
    """Whom to call about this case: the contacts for the subject's area, shown in the decisions named in `steps`."""

    local_authority: str | None
    postcode: str | None
    contacts: list[DirectoryContact]
    steps: tuple[str, ...]

    @property
    def area(self) -> str | None:
        return self.local_authority or self.postcode


def suggestions(session: Session, actor, case: Case, events: list[str]) -> Suggestions | None:
    """The contacts to suggest in the case page's decisions that refer on (None when none of them is open to the
    user, or the user may not read the directory)."""
    steps = tuple(event for event in events if event in SUGGESTED_AT)
    if not steps or not can(actor, "can_read", "Directory"):
        return None
    local_authority, postcode, contacts = contacts_for_case(session, case)
    return Suggestions(local_authority, postcode, contacts, steps)


# --- the Lead's changes ---------------------------------------------------------------------------------------

def _area_fields(form: Loaded) -> dict[str, Any]:
    """The contact's details from the form, its area written as kept (one authority a line; districts upper case,
    one space apart), with the area's own errors added to the form's."""
    values: dict[str, Any] = {name: form[name] for name in
                              ("kind", "name", "organisation", "phone", "email", "notes", "region")}
    names: list[str] = []
    for line in re.split(r"[\n;]+", form["local_authorities"] or ""):
        name = authority_name(line)
        if name and name.lower() not in {n.lower() for n in names}:
            names.append(name)
    if form["local_authorities"] is not None and not names:
        form.error("local_authorities", "This field is required.")
    values["local_authorities"] = "\n".join(names)
    districts: list[str] = []
    wrong: list[str] = []
    for item in re.split(r"[\s,;]+", (form["postcode_districts"] or "").upper()):
        if not item:
            continue
        if not DISTRICT.match(item):
            wrong.append(item)
        elif item not in districts:
            districts.append(item)
    if wrong:
        form.error("postcode_districts", f"These are not postcode districts: {', '.join(wrong)}. Enter the first "
                                         "part of the postcodes, such as M1, SK4 or BS16.")
    values["postcode_districts"] = " ".join(districts) or None
    if form["kind"] == ContactKind.dfe_coordinator and not values["region"] and "region" not in form.errors:
        form.error("region", "A DfE regional Prevent coordinator needs the region they cover.")
    values["kind"] = ContactKind(form["kind"]) if form["kind"] else None
    return values


def add_contact(actor, payload: Any) -> DirectoryContact:
    if not can(actor, "can_edit", "Directory"):
        raise Forbidden()
    with unit_of_work("contact") as session:
        form = CONTACT.read(payload)
        values = _area_fields(form)
        form.check()
        contact = DirectoryContact(**values)
        session.add(contact)
        session.flush()
        audit.record(session, actor, "add_directory_contact", contact)
        return contact


def _for_change(session: Session, actor, contact_id: int) -> DirectoryContact:
    return kept_lists.for_change(session, actor, DirectoryContact, contact_id, "Directory", "contact")


def update_contact(actor, contact_id: int, payload: Any) -> DirectoryContact:
    """Changes the contact's details and area; with `version`, refuses (409) if someone changed it since."""
    with unit_of_work("contact") as session:
        contact = _for_change(session, actor, contact_id)
        form = CONTACT.read(payload)
        values = _area_fields(form)
        version = form["version"]
        form.check()
        if version is not None and version != contact.version:
            raise StaleVersion(what="contact")
        for name, value in values.items():
            setattr(contact, name, value)
        audit.record(session, actor, "update_directory_contact", contact)
        return contact


def set_in_use(actor, contact_id: int, in_use: bool) -> DirectoryContact:
    """Retires a contact (no longer suggested, kept for the record) or puts a retired one back in use."""
    with unit_of_work("contact") as session:
        contact = _for_change(session, actor, contact_id)
        kept_lists.set_in_use(session, actor, contact, in_use, "contact", "directory_contact")
        return contact
