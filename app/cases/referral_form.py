"""The national Prevent referral form (issue 13, point 1): what the form asks that the concern does not (address,
gender, other agencies, needs, online activity, contacts, threats, family, what the referrer has done...), recorded on
the case by officers and the Lead, and the whole form, the concern's own words, date of birth, indicators and type
included, as JSON or as a PDF laid out in the form's sections, ready to send to the police Prevent team.

One schema (REFERRAL_FORM) reads the page's form and the API's body alike. Every change is audited with its old and
new values and told in the chronology; every download (JSON or PDF) is audited and in the access log."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from app.cases.involved import person_json
from app.cases.policy_words import NOT_CRIMINAL
from app.cases.use_cases import add_entry, load_case_for_work
from app.directory import use_cases as directory
from app.directory.presenters import contact_json
from app.extensions import db
from app.kernel import access_log, audit, exports, formats
from app.kernel.ages import age_on
from app.kernel.errors import Conflict, Forbidden, NotFound, StaleVersion
from app.kernel.postcodes import uk_postcode
from app.kernel.schemas import Body, Choice, Text, Whole
from app.kernel.security import CaseAccess, can, case_access
from app.kernel.uow import unit_of_work
from app.models import Case, IndicatorKind, ReferralDetails, utcnow

MARKING = "OFFICIAL-SENSITIVE"
ADDRESS_MAX = 500
POSTCODE_MAX = 16  # as typed; kept as at most 8 ("SW1A 1AA")
SHORT_MAX = 200
GENDER_MAX = 60
NATIONALITY_MAX = 100
LONG_MAX = 5_000
SPECIAL_NEEDS = ("yes", "no", "not_known")
PARENTS_CARERS_TOLD = ("yes", "no", "not_applicable")
FORMATS = {"json": "application/json", "pdf": "application/pdf"}


class ReferralFormSchema(Body):
    """The referral form's details beyond the concern, every one optional. Sent whole (PUT): a field left out or
    blank is cleared. `version`: the details' version when they were read (0 before any were recorded)."""

    address = Text(ADDRESS_MAX)
    postcode = Text(POSTCODE_MAX, check=uk_postcode)
    local_authority = Text(SHORT_MAX)
    gender = Text(GENDER_MAX)
    nationality = Text(NATIONALITY_MAX)
    education_employment = Text(LONG_MAX)
    special_needs = Choice(SPECIAL_NEEDS)
    needs_vulnerabilities = Text(LONG_MAX)
    online_activity = Text(LONG_MAX)
    group_contacts = Text(LONG_MAX)
    threats_intentions = Text(LONG_MAX)
    family_context = Text(LONG_MAX)
    parents_carers_told = Choice(PARENTS_CARERS_TOLD)
    other_agencies = Text(LONG_MAX)
    referrer_actions = Text(LONG_MAX)
    version = Whole()


REFERRAL_FORM = ReferralFormSchema()


class ReferralFormatSchema(Body):
    format = Choice(tuple(FORMATS))


REFERRAL_FORMAT = ReferralFormatSchema()

# Each recorded field in words, in the order of the form: the chronology names the ones changed.
LABELS = {
    "address": "Address", "postcode": "Postcode", "local_authority": "Local authority", "gender": "Gender",
    "nationality": "Nationality", "education_employment": "Education or employment",
    "special_needs": "Special educational needs or complex needs", "needs_vulnerabilities": "Needs and vulnerabilities",
    "online_activity": "Online activity", "group_contacts": "Contact with groups or individuals",
    "threats_intentions": "Threats or intentions", "family_context": "Family context",
    "parents_carers_told": "Parents or carers told", "other_agencies": "Other agencies involved",
    "referrer_actions": "What the referrer has done so far",
}
FIELDS = tuple(LABELS)


# --- recording the details ---------------------------------------------------------------------------------------

def details_of(session: Session, case_id: int) -> ReferralDetails | None:
    return session.get(ReferralDetails, case_id)


def form_values(details: ReferralDetails | None) -> dict[str, Any]:
    """The recorded details as the page's form shows them, with the version they were read at."""
    values: dict[str, Any] = {name: (getattr(details, name) if details else None) or "" for name in FIELDS}
    values["version"] = details.version if details else 0
    return values


def details_json(details: ReferralDetails) -> dict[str, Any]:
    """The recorded details as the API answers them."""
    return {**{name: getattr(details, name) for name in FIELDS}, "version": details.version,
            "updated_at": formats.iso(details.updated_at)}


def update_referral_form(actor, case_id: int, payload: Any) -> ReferralDetails:
    """Records the referral form's details (the whole form: a field left out is cleared), officers and the Lead,
    on an open case; with `version`, refused (409) when someone changed them since they were read."""
    if not can(actor, "can_transition"):
        raise Forbidden()
    with unit_of_work("referral form") as session:
        case = load_case_for_work(session, actor, case_id)
        form = REFERRAL_FORM.check(payload)
        if not case.is_open:
            raise Conflict("The case is closed: reopen it before changing its referral form.", case.status.value)
        details = details_of(session, case.id)
        if form["version"] is not None and form["version"] != (details.version if details else 0):
            raise StaleVersion(case.status.value, what="referral form")
        new = details is None
        if details is None:
            details = ReferralDetails(case_id=case.id)
            session.add(details)
        before = {name: None if new else getattr(details, name) for name in FIELDS}
        changed = [name for name in FIELDS if form[name] != before[name]]
        if not changed and not new:
            return details  # nothing to record
        for name in FIELDS:
            setattr(details, name, form[name])
        details.updated_at, details.updated_by_id = utcnow(), actor.id
        audit.record(session, actor, "update_referral_form", details)
        add_entry(session, case, actor, "referral_form",
                  "Referral form details recorded" if new else "Referral form details changed",
                  data={"changed": ", ".join(LABELS[name] for name in changed) or None})
        return details


# --- the form as a document --------------------------------------------------------------------------------------

def suggested_contacts(session: Session, case: Case) -> list[dict[str, Any]]:
    """Who to call for the subject's area, from the directory the Lead keeps (police Prevent team, Channel lead, MASH
    front door, DfE regional coordinator)."""
    return [contact_json(contact) for contact in directory.contacts_for_case(session, case)[2]]


def referrer(actor) -> dict[str, Any]:
    """The referrer: the provider and its Designated Safeguarding Officer (the contacts in SAFEGUARDING_CONTACTS; the
    officer preparing the form when they are one of them, else the first), and who prepared it."""
    contacts = current_app.config["SAFEGUARDING_CONTACTS"]
    prepared_by = f"{actor.first_name} {actor.last_name}"
    officer = next((c for c in contacts if c.get("name") == prepared_by), contacts[0] if contacts else {})
    return {"organisation": current_app.config["PROVIDER_NAME"], "name": officer.get("name"),
            "role": officer.get("role"), "phone": officer.get("phone"), "out_of_hours": officer.get("out_of_hours"),
            "email": officer.get("email"), "prepared_by": prepared_by,
            "safeguarding_officers": [dict(contact) for contact in contacts]}


def referral_form_json(session: Session, actor, case: Case, today: date | None = None) -> dict[str, Any]:
    """The national referral form's sections, from the case, its subject and its recorded details."""
    today = today or date.today()
    subject, details = case.subject, details_of(session, case.id)

    def recorded(name: str) -> Any:
        return getattr(details, name) if details else None

    return {
        "marking": MARKING,
        "reference": case.reference,
        "status": case.status.value,
        "not_a_criminal_process": NOT_CRIMINAL,
        "person": {
            "name": subject.full_name, "subject_type": subject.subject_type.value,
            "date_of_birth": formats.iso(subject.date_of_birth), "age": age_on(subject.date_of_birth, today),
            "gender": recorded("gender"), "address": recorded("address"), "postcode": recorded("postcode"),
            "local_authority": recorded("local_authority"), "nationality": recorded("nationality")},
        "education_employment": {
            "programme": subject.programme, "employer": subject.employer.name if subject.employer else None,
            "learner_ref": subject.learner_ref, "details": recorded("education_employment")},
        "concern": {
            "description": case.description, "occurred_at": formats.iso(case.occurred_at), "location": case.location,
            "recorded_at": formats.iso(case.recorded_at),
            "indicators": {kind.value: [i.label for i in case.indicators if i.kind == kind] for kind in IndicatorKind},
            "type_of_concern": case.concern_type.label if case.concern_type else None,
            "immediate_danger": case.immediate_danger, "police_called": case.police_called,
            "police_incident_number": case.police_incident_number, "action_taken": case.action_taken,
            "others_involved": [person_json(person) for person in case.people_involved]},
        "vulnerabilities": {"special_needs": recorded("special_needs"), "details": recorded("needs_vulnerabilities")},
        "online_activity": {"details": recorded("online_activity")},
        "contacts": {"details": recorded("group_contacts")},
        "threats": {"details": recorded("threats_intentions")},
        "family": {"context": recorded("family_context"), "parents_carers_told": recorded("parents_carers_told")},
        "other_agencies": {"details": recorded("other_agencies")},
        "referrer_actions": {"details": recorded("referrer_actions")},
        "referral": {"referral_date": formats.iso(case.referral_date), "police_reference": case.police_reference,
                     "person_told": case.subject_informed},
        "referrer": {**referrer(actor), "prepared_on": today.isoformat()},
        "contacts_suggested": suggested_contacts(session, case),
        "version": details.version if details else 0,
    }


def download(actor, case_id: int, payload: Any) -> tuple[str, dict[str, Any], bytes | None]:
    """The referral form as `format` json (the default) or pdf: (format, the JSON, the PDF or None). Officers and the
    Lead; 404 for a case they may not work on. Audited, and in the access log."""
    if not can(actor, "can_export"):
        raise Forbidden()
    fmt = REFERRAL_FORMAT.check(payload)["format"] or "json"
    session = db.session
    if case_access(session, actor, case_id) is not CaseAccess.FULL:
        raise NotFound("case")
    document = referral_form_json(session, actor, session.get_one(Case, case_id))
    with unit_of_work() as work:
        audit.record(work, actor, f"referral_form_{fmt}", work.get_one(Case, case_id),
                     extra_changes={"format": (None, fmt)})
        access_log.record_opening(work, actor, case_id, "export", f"referral_form_{fmt}")
    if fmt == "json":
        return fmt, document, None
    return fmt, document, exports.sectioned_pdf(
        f"Prevent referral: {document['reference']}", MARKING, _pdf_note(actor), pdf_sections(document), NOT_CRIMINAL)


def filename(document: dict[str, Any], fmt: str) -> str:
    return f"{document['reference']}-referral-form.{fmt}"


def _pdf_note(actor) -> str:
    return (f"Prepared {formats.uk_datetime(utcnow())} by {actor.first_name} {actor.last_name}. {MARKING}: a Prevent "
            "referral. Share only with those who need to know.")


# --- the PDF's sections --------------------------------------------------------------------------------------------

def _said(value: Any) -> str:
    """A value as the PDF says it: "Not recorded" for none, yes/no and stored choices in words."""
    if value is None or value == "" or value == []:
        return "Not recorded"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    if value in SPECIAL_NEEDS + PARENTS_CARERS_TOLD:
        return formats.words(value).capitalize()
    return str(value)


def _day(value: str | None) -> str | None:
    return formats.uk_date(date.fromisoformat(value)) if value else None


def _moment(value: str | None) -> str | None:
    return formats.uk_datetime(datetime.fromisoformat(value)) if value else None


def pdf_sections(doc: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The JSON's sections as the PDF lays them out: (heading, [(label, text)])."""
    person, work, concern, referrer_ = doc["person"], doc["education_employment"], doc["concern"], doc["referrer"]
    indicators = concern["indicators"]
    others = [", ".join(part for part in (p["name"], p["role"], p["relationship"]) if part)
              for p in concern["others_involved"]]
    sections: list[tuple[str, list[tuple[str, Any]]]] = [
        ("1. The person", [
            ("Name", person["name"]), ("Date of birth", _day(person["date_of_birth"])), ("Age", person["age"]),
            ("Gender", person["gender"]), ("Address", person["address"]), ("Postcode", person["postcode"]),
            ("Local authority", person["local_authority"]), ("Nationality", person["nationality"]),
            ("They are", formats.words(person["subject_type"]))]),
        ("2. Education or employment", [
            ("Programme", work["programme"]), ("Employer", work["employer"]),
            ("Learner reference", work["learner_ref"]), ("Details", work["details"])]),
        ("3. The concern", [
            ("What was seen or said (their own words, verbatim)", concern["description"]),
            ("When", _moment(concern["occurred_at"])), ("Where", concern["location"]),
            ("Recorded", _moment(concern["recorded_at"])), ("Type of concern", concern["type_of_concern"]),
            ("Indicators", indicators["indicator"]), ("Vulnerabilities", indicators["vulnerability"]),
            ("Contributory factors", indicators["contributory_factor"]),
            ("Immediate danger", concern["immediate_danger"]), ("Police called", concern["police_called"]),
            ("Police incident number", concern["police_incident_number"]),
            ("Action taken", concern["action_taken"]), ("Others involved", others)]),
        ("4. Needs and vulnerabilities", [
            ("Special educational needs, disabilities or complex needs", doc["vulnerabilities"]["special_needs"]),
            ("Details", doc["vulnerabilities"]["details"])]),
        ("5. Online activity", [("Details", doc["online_activity"]["details"])]),
        ("6. Contact with groups or individuals", [("Details", doc["contacts"]["details"])]),
        ("7. Threats or intentions", [("Details", doc["threats"]["details"])]),
        ("8. Family, parents and carers", [
            ("Family context", doc["family"]["context"]),
            ("Parents or carers told of this referral", doc["family"]["parents_carers_told"])]),
        ("9. Other agencies involved", [("Details", doc["other_agencies"]["details"])]),
        ("10. What the referrer has done so far", [("Details", doc["referrer_actions"]["details"])]),
        ("11. The referrer", [
            ("Organisation", referrer_["organisation"]), ("Name", referrer_["name"]), ("Role", referrer_["role"]),
            ("Phone", referrer_["phone"]), ("Out of hours", referrer_["out_of_hours"]),
            ("Email", referrer_["email"]), ("Prepared by", referrer_["prepared_by"]),
            ("Date", _day(referrer_["prepared_on"])),
            ("Referral sent", _day(doc["referral"]["referral_date"])),
            ("Police reference", doc["referral"]["police_reference"])]),
    ]
    if doc["contacts_suggested"]:
        sections.append(("12. Contacts for the person's area", [
            (c["kind_label"], ", ".join(str(c[k]) for k in ("name", "organisation", "phone", "email") if c[k]))
            for c in doc["contacts_suggested"]]))
    return [(heading, [(label, _said(value)) for label, value in rows]) for heading, rows in sections]
