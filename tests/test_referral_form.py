"""The national Prevent referral form (issue 13, points 1 and 10): officers and the Lead record what the form asks
beyond the concern, on a page reached from the case page and through the API; the form comes out as JSON and as a
PDF in the form's sections, with the concern's own words, date of birth, indicators and type; every download is
audited and in the access log; nobody else reaches it. And the policy's words staff and families need: the
definitions on the concern form, "A referral to Channel is not a criminal process." on the referral form (page and
PDF) and the reporter's view. Which role reaches which route is in tests/test_access.py's MATRIX; this module checks
what each does."""
from __future__ import annotations

import io
import re
import uuid

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from app.cases import access
from app.cases.policy_words import DEFINITIONS, NOT_CRIMINAL
from app.extensions import db
from app.kernel.validation import PROTECTED_MESSAGE
from app.models import AccessLogEntry, AuditEvent, Case, CaseEntry, ConcernType, Indicator, ReferralDetails
from tests.conftest import csrf_token, make_case, user
from tests.test_pages import case_page, section, text

pytestmark = pytest.mark.usefixtures("ctx")

DETAILS = {"address": "1 Example Street\nBristol", "postcode": "bs1  4dj", "local_authority": "Bristol City Council",
           "gender": "Male", "nationality": "British", "special_needs": "yes",
           "needs_vulnerabilities": "Has an EHC plan", "online_activity": "Shares videos on a messaging app",
           "group_contacts": "Talks to an older man online", "threats_intentions": "None known",
           "family_context": "Lives with his mother", "parents_carers_told": "no",
           "other_agencies": "Early help team", "referrer_actions": "Spoke to him with his tutor"}


def marker() -> str:
    return uuid.uuid4().hex[:10]


def coded_case(words: str, *, state: str = "under_review", **overrides) -> tuple[int, list[str], str]:
    """A concern with two indicators of different kinds and a type of concern: (case id, indicator labels, type)."""
    indicators = [db.session.scalars(sa.select(Indicator).where(Indicator.active.is_(True), Indicator.kind == kind)
                                     .order_by(Indicator.position)).first() for kind in ("indicator", "vulnerability")]
    kind = db.session.scalars(sa.select(ConcernType).where(ConcernType.active.is_(True))
                              .order_by(ConcernType.position)).first()
    labels, label = [i.label for i in indicators], kind.label
    case_id = make_case("staff", state, description=words, indicator_ids=[i.id for i in indicators],
                        concern_type_id=kind.id, **overrides)
    return case_id, labels, label


def pdf_text(content: bytes) -> str:
    """The PDF's words, lines joined: a long sentence wraps."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


def counts(case_id: int) -> tuple[int, int, int]:
    """Audit events, access-log entries and chronology entries of a case."""
    found = tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model).where(model.case_id == case_id))
                  for model in (AuditEvent, AccessLogEntry, CaseEntry))
    db.session.rollback()
    return found  # type: ignore[return-value]


def form_page(client, case_id: int) -> str:
    response = client.get(f"/cases/{case_id}/referral-form")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post_form(client, case_id: int, data: dict, page: str | None = None):
    page = page or form_page(client, case_id)
    version = re.search(r'name="version" value="(\d*)"', page)
    return client.post(f"/cases/{case_id}/referral-form", data={
        "csrf_token": csrf_token(page), "version": version[1] if version else "", **data})


# --- the page -----------------------------------------------------------------------------------------------------

def test_an_officer_records_the_details_from_the_case_page_and_each_change_is_audited_with_old_and_new(web):
    officer = web("officer")
    case_id, _, _ = coded_case(f"He said {marker()}")
    page = case_page(officer, case_id)
    panel = section(page, 'id="referral-form"', "</ul>")
    assert f'href="/cases/{case_id}/referral-form"' in panel and "Referral form details" in text(panel)
    assert f'href="/cases/{case_id}/referral-form.pdf"' in panel
    assert "Download the referral form (PDF)" in text(panel)

    form = form_page(officer, case_id)
    assert NOT_CRIMINAL in text(form)
    assert form.count("<fieldset") >= 6 and "<legend" in form
    for label in ("Address", "Postcode", "Local authority where they live", "Online activity",
                  "Have their parents or carers been told of this referral?", "What you have done so far"):
        assert label in text(form), label
    assert "Alex Morgan" in text(form)  # the referrer: the provider's DSO, from the contacts in the settings

    response = post_form(officer, case_id, DETAILS, form)
    assert response.status_code == 302 and response.location.endswith(f"/cases/{case_id}#referral-form")
    shown = case_page(officer, case_id)
    assert "Referral form details saved." in text(section(shown, 'id="referral-form"', "</ul>"))
    assert "Referral form details recorded" in text(section(shown, 'id="chronology"', "</ol>"))
    details = db.session.get(ReferralDetails, case_id)
    assert details.postcode == "BS1 4DJ" and details.address == "1 Example Street\nBristol"
    assert details.parents_carers_told == "no" and details.updated_by_id == user("officer").id

    again = form_page(officer, case_id)
    assert "Lives with his mother" in again and 'value="BS1 4DJ"' in again
    assert post_form(officer, case_id, {**DETAILS, "postcode": "BS1 4DJ", "parents_carers_told": "yes",
                                        "threats_intentions": ""}, again).status_code == 302
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                           AuditEvent.action == "update_referral_form")
                               .order_by(AuditEvent.seq.desc())).first()
    assert event.actor == "officer" and event.entity_type == "ReferralDetails"
    assert event.changes["parents_carers_told"] == {"old": "no", "new": "yes"}
    assert event.changes["threats_intentions"] == {"old": "None known", "new": None}
    assert "postcode" not in event.changes  # unchanged
    entry = db.session.scalars(sa.select(CaseEntry).where(CaseEntry.case_id == case_id,
                                                          CaseEntry.kind == "referral_form")
                               .order_by(CaseEntry.id.desc())).first()
    assert entry.summary == "Referral form details changed"
    assert entry.data == {"changed": "Threats or intentions, Parents or carers told"}


def test_a_refused_form_says_what_to_fix_keeps_what_was_typed_and_saves_nothing(web):
    officer = web("officer")
    case_id, _, _ = coded_case("Seen on a page")
    before = counts(case_id)
    response = post_form(officer, case_id, {**DETAILS, "postcode": "not a postcode",
                                            "online_activity": "x" * 5001, "special_needs": "perhaps"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = text(section(page, 'id="error-summary"', "</ul>"))
    assert "There is a problem" in summary
    assert "Enter a UK postcode, like BS1 4DJ." in summary and "Keep this under 5000 characters." in summary
    assert "Choose yes, no or not known" in summary
    assert 'href="#referral-postcode"' in page and 'href="#referral-online_activity"' in page
    assert re.search(r'id="referral-postcode"[^>]*value="not a postcode"[^>]*aria-invalid="true"', page)
    assert "Talks to an older man online" in page and "Lives with his mother" in page  # nothing typed is lost
    assert db.session.get(ReferralDetails, case_id) is None
    assert counts(case_id)[0] == before[0] and counts(case_id)[2] == before[2]


def test_two_officers_at_once_the_second_is_told_and_loses_nothing(web):
    first, second = web("officer"), web("lead")
    case_id, _, _ = coded_case("Two at once")
    page_of_second = form_page(second, case_id)
    assert post_form(first, case_id, DETAILS).status_code == 302
    response = post_form(second, case_id, {**DETAILS, "family_context": "Lives with his father"}, page_of_second)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "changed since you opened it" in text(page) and "Lives with his father" in page
    assert db.session.get(ReferralDetails, case_id).family_context == "Lives with his mother"


def test_a_closed_case_keeps_its_referral_form_as_it_was(web, api):
    case_id, _, _ = coded_case("Closed already", state="closed")
    response = api("officer").put(f"/api/v1/case/{case_id}/referral_form", json={"postcode": "BS1 4DJ"})
    assert response.status_code == 409 and response.get_json()["status"] == "closed"
    page = form_page(web("officer"), case_id)
    assert "The case is closed: reopen it to change these details." in page
    assert db.session.get(ReferralDetails, case_id) is None


def test_the_form_keeps_a_draft_as_it_is_typed_and_gives_it_up_when_saved(web):
    from tests.test_drafts import form_on, restored, save
    officer = web("officer")
    case_id, _, _ = coded_case("A draft")
    url, key = f"/cases/{case_id}/referral-form", f"case:{case_id}:referral_form"
    csrf, form = form_on(officer, url, key)
    assert form["page"] == url  # where signing in again after the session ended returns to
    assert save(officer, csrf, form["token"], {"family_context": "Lives with his aunt"}).status_code == 200
    assert restored(officer, url, key) == {"family_context": "Lives with his aunt"}
    assert "Lives with his aunt" not in web("lead").get(url).get_data(as_text=True)  # the officer's alone
    sent = officer.post(url, data={"csrf_token": csrf, "draft_token": form["token"], "version": "0",
                                   "family_context": "Lives with his aunt"})
    assert sent.status_code == 302 and restored(officer, url, key) is None


# --- the API ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["officer", "lead"])
def test_officers_and_the_lead_record_the_details_through_the_api(api, role):
    case_id, _, _ = coded_case("Through the API")
    client = api(role)
    response = client.put(f"/api/v1/case/{case_id}/referral_form", json={**DETAILS, "version": 0})
    assert response.status_code == 200, response.get_json()
    result = response.get_json()["result"]
    assert result["postcode"] == "BS1 4DJ" and result["gender"] == "Male" and result["version"] == 1
    # The whole form each time: what is left out is cleared; an old version is refused and changes nothing.
    second = client.put(f"/api/v1/case/{case_id}/referral_form", json={"postcode": "BS2 0JA", "version": 1})
    assert second.status_code == 200 and second.get_json()["result"]["gender"] is None
    stale = client.put(f"/api/v1/case/{case_id}/referral_form", json={"postcode": "BS3 1AA", "version": 1})
    assert stale.status_code == 409
    assert db.session.get(ReferralDetails, case_id).postcode == "BS2 0JA"


def test_malformed_details_are_refused_with_clear_messages_and_change_nothing(api):
    case_id, _, _ = coded_case("Malformed")
    before = counts(case_id)
    response = api("officer").put(f"/api/v1/case/{case_id}/referral_form", json={
        "postcode": "12345", "parents_carers_told": "maybe", "gender": 7, "address": "x" * 501, "colour": "blue",
        "case_id": 1})
    assert response.status_code == 422
    assert response.get_json()["message"] == {
        "postcode": ["Enter a UK postcode, like BS1 4DJ."],
        "parents_carers_told": ["Choose one of: yes, no, not_applicable."], "gender": ["Send this as a JSON string."],
        "address": ["Keep this under 500 characters."], "colour": ["Unknown field."],
        "case_id": [PROTECTED_MESSAGE]}
    assert counts(case_id) == before and db.session.get(ReferralDetails, case_id) is None
    assert api("officer").get(f"/api/v1/case/{case_id}/referral_form?format=docx").status_code == 422


def test_the_json_carries_the_national_forms_sections_with_the_concerns_own_words(api):
    words = f'He said "they deserve what is coming" {marker()}'
    case_id, labels, kind = coded_case(words, others_involved=[{"name": "Sam Witness", "role": "Learner"}])
    api("officer").put(f"/api/v1/case/{case_id}/referral_form", json=DETAILS)
    response = api("lead").get(f"/api/v1/case/{case_id}/referral_form")
    assert response.status_code == 200
    form = response.get_json()["result"]
    assert form["marking"] == "OFFICIAL-SENSITIVE" and form["not_a_criminal_process"] == NOT_CRIMINAL
    person = form["person"]
    assert person["date_of_birth"] == "2008-01-02" and isinstance(person["age"], int) and person["age"] >= 17
    assert (person["postcode"], person["local_authority"], person["gender"]) == (
        "BS1 4DJ", "Bristol City Council", "Male")
    concern = form["concern"]
    assert concern["description"] == words  # verbatim
    assert concern["indicators"]["indicator"] == [labels[0]] and concern["indicators"]["vulnerability"] == [labels[1]]
    assert concern["type_of_concern"] == kind
    assert concern["others_involved"] == [{"name": "Sam Witness", "role": "Learner", "relationship": None}]
    assert form["vulnerabilities"] == {"special_needs": "yes", "details": "Has an EHC plan"}
    assert form["online_activity"]["details"] == DETAILS["online_activity"]
    assert form["contacts"]["details"] == DETAILS["group_contacts"]
    assert form["threats"]["details"] == "None known"
    assert form["family"] == {"context": "Lives with his mother", "parents_carers_told": "no"}
    assert form["other_agencies"]["details"] == "Early help team"
    assert form["referrer_actions"]["details"] == "Spoke to him with his tutor"
    assert form["referrer"]["name"] == "Alex Morgan" and form["referrer"]["phone"] == "0117 000 0001"
    assert form["referrer"]["role"] == "Designated Safeguarding Officer"
    assert form["referrer"]["prepared_by"] == "Lead Tester"
    assert form["contacts_suggested"] == []


def test_the_pdf_is_laid_out_in_the_forms_sections_and_holds_what_the_police_need(api, web):
    words = f"He said the attack would be deserved {marker()}"
    case_id, labels, kind = coded_case(words)
    api("officer").put(f"/api/v1/case/{case_id}/referral_form", json=DETAILS)
    for response in (api("officer").get(f"/api/v1/case/{case_id}/referral_form?format=pdf"),
                     web("lead").get(f"/cases/{case_id}/referral-form.pdf")):
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert "attachment" in response.headers["Content-Disposition"]
        assert "referral-form.pdf" in response.headers["Content-Disposition"]
        content = pdf_text(response.data)
        for expected in (words, "02 Jan 2008", *labels, kind, "OFFICIAL-SENSITIVE", NOT_CRIMINAL, "1. The person",
                         "3. The concern", "8. Family, parents and carers", "11. The referrer", "BS1 4DJ",
                         "Talks to an older man online", "Alex Morgan"):
            assert expected in content, expected


def test_every_download_is_audited_and_in_the_access_log(api, web):
    case_id, _, _ = coded_case("Downloaded")
    for fetch, fmt in ((lambda: api("officer").get(f"/api/v1/case/{case_id}/referral_form"), "json"),
                       (lambda: api("lead").get(f"/api/v1/case/{case_id}/referral_form?format=pdf"), "pdf"),
                       (lambda: web("officer").get(f"/cases/{case_id}/referral-form.pdf"), "pdf")):
        audits, logged, _ = counts(case_id)
        assert fetch().status_code == 200
        assert counts(case_id)[:2] == (audits + 1, logged + 1)
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.case_id == case_id)
                                   .order_by(AuditEvent.seq.desc())).first()
        assert event.action == f"referral_form_{fmt}" and event.changes["format"] == {"old": None, "new": fmt}
        entry = db.session.scalars(sa.select(AccessLogEntry).where(AccessLogEntry.case_id == case_id)
                                   .order_by(AccessLogEntry.id.desc())).first()
        assert (entry.channel, entry.what) == ("export", f"referral_form_{fmt}")
    # The Lead sees the downloads in the case's access log.
    log = api("lead").get(f"/api/v1/case/{case_id}/access_log").get_json()["result"]
    assert [e["what"] for e in log][:3] == ["referral_form_pdf", "referral_form_pdf", "referral_form_json"]


# --- who may --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["staff", "director", "governance", "admin"])
def test_nobody_but_officers_and_the_lead_reaches_the_form_not_even_the_reporter(api, web, role):
    case_id, _, _ = coded_case(f"Not for everyone {marker()}")  # raised by "staff"
    before = counts(case_id)
    for response in (api(role).get(f"/api/v1/case/{case_id}/referral_form"),
                     api(role).get(f"/api/v1/case/{case_id}/referral_form?format=pdf"),
                     api(role).put(f"/api/v1/case/{case_id}/referral_form", json={"postcode": "BS1 4DJ"}),
                     web(role).get(f"/cases/{case_id}/referral-form"),
                     web(role).get(f"/cases/{case_id}/referral-form.pdf")):
        assert response.status_code == 403
    assert counts(case_id) == before


def test_the_reporters_view_has_no_link_to_the_form(web):
    case_id, _, _ = coded_case("My own concern")
    page = web("staff").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "referral-form" not in page and "National referral form" not in page


def test_a_restricted_case_not_granted_is_not_found_and_once_granted_it_is_there(api, web):
    case_id, _, _ = coded_case("About a colleague", state="reported", subject={"full_name": f"Colleague {marker()}",
                                                             "subject_type": "staff"})
    assert db.session.get(Case, case_id).restricted
    before = counts(case_id)
    for response in (api("officer").get(f"/api/v1/case/{case_id}/referral_form"),
                     api("officer").get(f"/api/v1/case/{case_id}/referral_form?format=pdf"),
                     api("officer").put(f"/api/v1/case/{case_id}/referral_form", json={"postcode": "BS1 4DJ"}),
                     web("officer").get(f"/cases/{case_id}/referral-form"),
                     web("officer").get(f"/cases/{case_id}/referral-form.pdf")):
        assert response.status_code == 404
    assert counts(case_id)[:2] == before[:2]
    access.grant_access(user("lead"), case_id, {"user_id": user("officer").id, "reason": "Needs to know"})
    assert api("officer").get(f"/api/v1/case/{case_id}/referral_form").status_code == 200
    assert api("officer").put(f"/api/v1/case/{case_id}/referral_form", json={"postcode": "BS1 4DJ"}).status_code \
        == 200


# --- the policy's words (point 10) -------------------------------------------------------------------------------

def test_the_concern_form_explains_the_words_as_the_policy_defines_them(web):
    page = web("staff").get("/concerns/new").get_data(as_text=True)
    details = section(page, '<details class="policy-words"', "</details>")
    assert "<summary>What do these words mean?</summary>" in details
    shown = text(details)
    for word, meaning in DEFINITIONS:
        assert f"{word} {meaning}" in shown
    assert [word for word, _ in DEFINITIONS] == ["Radicalisation", "Terrorism", "Extremism", "Channel"]
    assert "fundamental British values" in shown and "early intervention multi-agency process" in shown
    assert NOT_CRIMINAL in shown


def test_the_reporter_is_told_a_referral_to_channel_is_not_a_criminal_process(web):
    case_id = make_case("staff", "referred_to_police")
    page = web("staff").get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'class="reporter-view"' in page and NOT_CRIMINAL in text(page)


# --- retention ---------------------------------------------------------------------------------------------------

def test_erasure_leaves_nothing_of_the_person_in_the_referral_form(api):
    from app.governance import retention
    case_id, _, _ = coded_case("To be erased")
    api("officer").put(f"/api/v1/case/{case_id}/referral_form", json=DETAILS)
    erased = retention._erase_concern_extras(db.session, [case_id])
    details = db.session.get(ReferralDetails, case_id)
    assert details in erased
    assert all(getattr(details, name) is None for name in DETAILS)
    db.session.rollback()

