"""Who may do what: the role matrix, the security manager, and the one per-record check for cases.

The matrix below is the whole truth about roles. It is enforced from code (Flask-AppBuilder "builtin roles", see
`fab_roles()`), so nobody can widen a role by editing permission rows in the database; `flask prevent sync-roles`
creates the roles and mirrors the matrix into FAB's tables so that the Admin's role pages show it.
"""
from __future__ import annotations

import enum
import logging
import re
from collections.abc import Iterable

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_appbuilder.security.sqla.manager import SecurityManager

from app.identity import security_views, sessions, sign_in
from app.identity.passwords import check_password
from app.identity.security_api import SecurityApi
from app.models import BreakGlass, Case, CaseAccessGrant, Employer, SpeakerRequest, StaffMember, Subject, utcnow

log = logging.getLogger(__name__)

Permission = tuple[str, str]  # (action, resource), as Flask-AppBuilder names them

STAFF = "Staff"
OFFICER = "Safeguarding Officer"
LEAD = "Prevent Lead"
DIRECTOR = "Programme Director"
GOVERNANCE = "Governance"
ADMIN = "Admin"

# Every signed-in user: their own profile and password.
SELF_SERVICE: list[Permission] = [
    ("can_userinfo", "UserDBModelView"),
    ("resetmypassword", "UserDBModelView"),
    ("userinfoedit", "UserDBModelView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
    ("can_this_form_get", "UserInfoEditView"),
    ("can_this_form_post", "UserInfoEditView"),
    ("can_get", "MenuApi"),
    ("can_read", "Notifications"),
    ("can_edit", "Notifications"),
    ("menu_access", "My email"), ("menu_access", "Account"),  # "Account": the menu under the user's name
    # Their own two-step sign-in (app/identity/two_step_pages.py): set it up, sign in with it, renew the recovery codes.
    ("can_use", "TwoStepSignIn"), ("menu_access", "Two-step sign-in"),
]
# Every employee may raise a concern, whatever else their role is.
EMPLOYEE: list[Permission] = SELF_SERVICE + [
    ("can_raise", "Case"),
    ("can_create", "Subject"),
    ("can_read", "Reference"),
    ("menu_access", "Raise a concern"),
    # Their own Prevent training: read it and record a completion.
    ("can_read", "Training"), ("can_record", "Training"), ("menu_access", "Training"), ("menu_access", "My training"),
    # External speakers and events: ask for approval, and read one's own requests and their decisions.
    ("can_request", "SpeakerRequest"), ("can_read", "SpeakerRequest"), ("menu_access", "External"),
    ("menu_access", "Speakers and events"),
    # The provider's policies: read the register, confirm "I have read version X" (one's own confirmations only).
    ("can_read", "Policy"), ("can_confirm", "Policy"), ("menu_access", "My policies"),
]
# Figures without names: the Programme Board report (Governance sees small counts suppressed), and the evidence pack
# of the whole duty for an inspector or the Board (one PDF for a period; small counts withheld for everyone).
BOARD_REPORT_READER: list[Permission] = [("can_read", "BoardReport"), ("menu_access", "Board report"),
                                         ("can_read", "EvidencePack"), ("menu_access", "Evidence pack")]
STAFF_PERMISSIONS: list[Permission] = EMPLOYEE + [
    ("can_read", "Case"),
    ("can_read_own", "Case"),
    ("can_record_risk", "Case"),
    ("menu_access", "My concerns"),
]
# Staff training compliance as figures: who is overdue, by name, comes with `can_read_all Training`, not with this.
# The menu's "Reports" group (Oversight, the Board report, coverage, compliance, retention) comes with it: everyone
# who reads any report reads this one.
COMPLIANCE_READER: list[Permission] = [("can_read", "Compliance"), ("menu_access", "Reports"),
                                       ("menu_access", "Training compliance"),
                                       # policy-read compliance beside it: names come with `can_read_all Policy`
                                       ("can_read", "PolicyCompliance"), ("menu_access", "Policy compliance")]
# British values and Learner Voice (app/british_values): the figures per programme; Governance reads only these.
BRITISH_VALUES_FIGURES: list[Permission] = [("can_read_summary", "BritishValues"), ("menu_access", "Reports"),
                                            ("menu_access", "British values")]
# Programme teams (Programme Directors, and the Prevent Lead) log activities and Learner Voice results, and read them.
BRITISH_VALUES_KEEPER: list[Permission] = BRITISH_VALUES_FIGURES + [("can_read", "BritishValues"),
                                                                    ("can_log", "BritishValues")]
# The directory of Prevent contacts by area (police Prevent, Channel leads, MASH, the DfE's coordinators): officers
# read it; the Prevent Lead keeps it (`can_edit`). It sits in the menu's "Reference data" group.
DIRECTORY_READER: list[Permission] = [("can_read", "Directory"), ("menu_access", "Reference data"),
                                      ("menu_access", "Prevent contacts")]
# The provider's Prevent risk assessment and action plan (app/risks): Governance and officers read it, the Prevent
# Lead keeps it and signs it off (`can_edit`). It sits in the menu's "Reports" group (COMPLIANCE_READER brings it).
RISK_READER: list[Permission] = [("can_read", "Risk"), ("menu_access", "Risk assessment")]
# Subcontractors (the provider's policy, section 3), their Prevent contact and programmes: officers, the Lead and
# Governance read them; the Prevent Lead keeps them (`can_edit`). In the menu's "Reference data" group.
SUBCONTRACTOR_READER: list[Permission] = [("can_read", "Subcontractor"), ("menu_access", "Reference data"),
                                          ("menu_access", "Subcontractors")]
# Web filtering and monitoring alerts (app/monitoring): read them and triage them (raise a concern from one, or
# dismiss it with a reason). The queue sits in the menu's "Reports" group, which comes with COMPLIANCE_READER.
MONITORING_TRIAGE: list[Permission] = [("can_read", "MonitoringAlert"), ("can_triage", "MonitoringAlert"),
                                       ("menu_access", "Monitoring alerts")]
OFFICER_PERMISSIONS: list[Permission] = (STAFF_PERMISSIONS + COMPLIANCE_READER + DIRECTORY_READER + RISK_READER
                                         + SUBCONTRACTOR_READER + MONITORING_TRIAGE + [
    ("can_read_all", "Case"),
    ("can_transition", "Case"),
    ("can_manage_actions", "Case"),
    ("can_export", "Case"),
    ("can_read", "Subject"),
    ("menu_access", "Cases"),
    ("menu_access", "My work"),
    # Everyone's training: read it, verify what staff recorded.
    ("can_read_all", "Training"), ("can_verify", "Training"), ("menu_access", "Staff training"),
    # The register of external speakers and events: every request, and the decision on those one did not ask for.
    ("can_read_all", "SpeakerRequest"), ("can_decide", "SpeakerRequest"), ("menu_access", "Speaker register"),
    ("can_read_all", "Policy"),  # who has not read the current policies, by name
])
# Programme Directors keep partner employers (their own; `can_read_all` sees every one) and log Prevent contact.
EMPLOYER_KEEPER: list[Permission] = [
    ("can_read", "Employer"), ("can_create", "Employer"), ("can_edit", "Employer"), ("menu_access", "Employers"),
]
# Employer awareness coverage as figures: the overdue list of employers comes with employer access, not with this.
COVERAGE_READER: list[Permission] = [("can_read", "Coverage"), ("menu_access", "Employer coverage")]
# Separation of duties: the roles that open case data are given only when a second person (another Admin, or the
# Lead) approves an Admin's request; both see the requests waiting and the latest changes to users.
ROLE_GRANT_DECIDER: list[Permission] = [("can_read", "RoleGrant"), ("can_approve", "RoleGrant"),
                                        ("menu_access", "Security"), ("menu_access", "Role grants")]
LEAD_PERMISSIONS: list[Permission] = OFFICER_PERMISSIONS + EMPLOYER_KEEPER + COVERAGE_READER + BRITISH_VALUES_KEEPER + [
    # The policy register: policies, their versions (a new one asks everyone again) and whom each applies to.
    ("can_manage", "Policy"), ("menu_access", "Policies"),
    ("can_read_all", "Employer"),
    ("can_reopen", "Case"),
    # Restricted cases (concerns about colleagues) only where granted, like officers; any other restricted case only
    # by "breaking glass": saying why, for a limited time, shown to the officers on the case.
    ("can_break_glass", "Case"),
    ("can_grant_access", "Case"),
    ("can_read_audit", "Case"),
    *BOARD_REPORT_READER,
    ("can_review", "Case"),
    ("can_read_access_log", "Case"),
    ("menu_access", "Oversight"),
    ("can_verify", "Audit"),
    *ROLE_GRANT_DECIDER,
    # Retention: approve erasures, legal hold, and the subject access export (app/governance/retention.py).
    ("can_read", "Retention"), ("can_approve", "Retention"), ("can_legal_hold", "Retention"),
    ("can_access_export", "Retention"), ("can_link_staff", "Retention"), ("menu_access", "Retention"),
    ("can_edit", "Directory"),  # "Reference data" in the menu comes with DIRECTORY_READER
    ("can_edit", "Risk"),  # the risk assessment: RISK_READER comes with OFFICER_PERMISSIONS
    ("menu_access", "Indicators"),
    # The provider's settings the Lead keeps (app/kernel/settings.py): the grace before a post-exit review is due.
    ("can_manage", "Settings"), ("menu_access", "Pathway settings"),
    ("can_list", "IndicatorView"), ("can_show", "IndicatorView"), ("can_add", "IndicatorView"),
    ("can_edit", "IndicatorView"),
    # The staff list (people without a sign-in, teams, managers, leavers), CSV imports, and the training courses.
    ("can_manage", "Training"), ("menu_access", "Import staff or training"), ("menu_access", "Training courses"),
    *[(p, "TrainingCourseView") for p in ("can_list", "can_show", "can_add", "can_edit")],
    # Training by role (the courses each role and team needs: app/training/requirements.py) comes with
    # `can_manage Training`; subcontractors are the Lead's to keep.
    ("menu_access", "Training by role"),
    ("can_edit", "Subcontractor"),
]
DIRECTOR_PERMISSIONS: list[Permission] = EMPLOYEE + EMPLOYER_KEEPER + BRITISH_VALUES_KEEPER
GOVERNANCE_PERMISSIONS: list[Permission] = (EMPLOYEE + COVERAGE_READER + COMPLIANCE_READER + BOARD_REPORT_READER
                                            + RISK_READER + BRITISH_VALUES_FIGURES + SUBCONTRACTOR_READER)
# Separation of duties: the Admin runs users, roles and reference settings, and reads no case content.
ADMIN_PERMISSIONS: list[Permission] = EMPLOYEE + [
    # Users are deactivated, never deleted; each change needs a reason, and the Lead is told (app/identity/accounts.py).
    *[(p, "UserDBModelView") for p in ("can_add", "can_edit", "can_list", "can_show", "resetpasswords")],
    ("can_this_form_get", "ResetPasswordView"), ("can_this_form_post", "ResetPasswordView"),
    *[(p, "RoleModelView") for p in ("can_list", "can_show")],
    *[("menu_access", m) for m in ("List Users", "List Roles")],
    ("menu_access", "Reference data"),
    ("menu_access", "Types of concern"),
    *[(p, "ConcernTypeView") for p in ("can_list", "can_show", "can_add", "can_edit")],
    ("can_get", "OpenApi"), ("can_show", "SwaggerView"), ("menu_access", "API documentation"),
    # The outbox is in the menu's "Reports" group, beside the other pages that watch how things stand.
    ("can_read", "Outbox"), ("can_retry", "Outbox"), ("menu_access", "Email outbox"), ("menu_access", "Reports"),
    # Reset someone's second factor (a lost phone): they set it up again at their next sign-in. Audited.
    ("can_reset", "TwoStepSignIn"), ("menu_access", "Sign-in help"),
    *ROLE_GRANT_DECIDER,
    # The monitoring systems allowed to send alerts, each with its key: add one (its key shown once), revoke one. The
    # alerts themselves are the officers' (app/monitoring). In the menu's "Security" group.
    ("can_manage", "MonitoringSource"), ("menu_access", "Monitoring sources"),
]

ROLE_MATRIX: dict[str, list[Permission]] = {
    STAFF: STAFF_PERMISSIONS,
    OFFICER: OFFICER_PERMISSIONS,
    LEAD: LEAD_PERMISSIONS,
    DIRECTOR: DIRECTOR_PERMISSIONS,
    GOVERNANCE: GOVERNANCE_PERMISSIONS,
    ADMIN: ADMIN_PERMISSIONS,
}


def fab_roles() -> dict[str, list[list[str]]]:
    """The matrix in the form FAB_ROLES takes: [resource pattern, action pattern], anchored to match exactly."""
    return {
        role: [[f"^{re.escape(resource)}$", f"^{re.escape(action)}$"] for action, resource in permissions]
        for role, permissions in ROLE_MATRIX.items()
    }


class PreventSecurityManager(SecurityManager):
    """FAB's manager; roles come from ROLE_MATRIX via FAB_ROLES. Every password set through it obeys the rule in
    app/identity/passwords.py, including FAB's CLI (create-admin, create-user, reset-password), which skips its forms.
    The API sign-in asks for the second factor (app/identity/security_api.py); signing out takes a POST
    (app/identity/sessions.py)."""

    security_api = SecurityApi
    authdbview = sessions.AuthDBView
    userdbmodelview = security_views.UserDBModelView
    resetpasswordview = security_views.ResetPasswordView
    userinfoeditview = security_views.UserInfoEditView
    rolemodelview = security_views.RoleModelView
    groupmodelview = security_views.UserGroupModelView
    permissionmodelview = security_views.PermissionModelView
    viewmenumodelview = security_views.ViewMenuModelView
    permissionviewmodelview = security_views.PermissionViewModelView

    def add_user(self, username, first_name, last_name, email, role=None, password="", hashed_password="",
                 groups=None, commit=True):
        if password and not hashed_password:
            try:
                check_password(password)
            except PasswordComplexityValidationError as exc:
                log.error("User %s not added: %s", username, exc)
                return False
        return super().add_user(username, first_name, last_name, email, role, password, hashed_password, groups,
                                commit)

    def reset_password(self, userid, password):
        """One's own new password (FAB's page), or anyone's from FAB's CLI: audited (app/identity/accounts.py)."""
        from app.identity import accounts  # here: app.identity.accounts imports this module

        actor = g.user if has_request_context() and getattr(g.get("user"), "is_authenticated", False) \
            else accounts.command_line_actor()
        accounts.set_password(actor, int(userid), password)
        # The change ended every session of the user (app/identity/sessions.py); the one they changed it in goes on.
        sessions.continue_own_session(int(userid))

    # Lockout and the count of failures for the rate limits: app/identity/sign_in.py.
    def auth_user_db(self, username, password):
        return sign_in.authenticate(username, password, super().auth_user_db)

    def noop_user_update(self, user):
        # FAB's sign-in calls this for a name with no active account, to balance the work of a wrong password.
        sign_in.unknown_name(user)

    def update_user_auth_stat(self, user, success=True):
        """After FAB's password check. The right password completes the sign-in only for users with no second step;
        for the others it completes at the second step (app/identity/two_step.py), and until then the count of failures
        stands."""
        from app.identity import two_step  # here, not at the top: app.identity.two_step imports this module

        if not success:
            sign_in.record_failure(user)
            self.on_user_login_failed(user)
        elif not two_step.needs_second_factor(user, two_step.second_factor(self.session, user)):
            self.sign_in_completed(user)

    def sign_in_completed(self, user):
        """Every step of a sign-in done: FAB's statistics, an expired lock cleared, and the count of failures
        starts again."""
        sign_in.clear_lock(user)
        super().update_user_auth_stat(user, True)


def permissions_of(user) -> frozenset[Permission]:
    """The user's permissions from the matrix, cached for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cache = g.setdefault("_prevent_permissions", {}) if has_request_context() else {}
    if user.id not in cache:
        cache[user.id] = frozenset(p for role in user.roles for p in ROLE_MATRIX.get(role.name, ()))
    return cache[user.id]


def can(user, action: str, resource: str = "Case") -> bool:
    return (action, resource) in permissions_of(user)


# --- the one per-record rule for cases ------------------------------------------------------------------------

class CaseAccess(enum.Enum):
    NONE = "none"
    REPORTER = "reporter"  # the reporter's view: reference, status, dates and their own text, never officers' work
    FULL = "full"


def full_access_clause(user) -> sa.ColumnElement[bool]:
    """Cases the user may work on: every case that is not restricted, for officers and the Lead; a restricted one
    (a concern about a colleague) only where granted (the Lead is granted each one raised while they are Lead), or,
    for the Lead, while a break glass of theirs on it lasts."""
    if not can(user, "can_read_all"):
        return sa.false()
    granted = sa.exists().where(CaseAccessGrant.case_id == Case.id, CaseAccessGrant.user_id == user.id)
    if not can(user, "can_break_glass"):
        return sa.or_(Case.restricted.is_(False), granted)
    broken = sa.exists().where(BreakGlass.case_id == Case.id, BreakGlass.user_id == user.id,
                               BreakGlass.expires_at > utcnow())
    return sa.or_(Case.restricted.is_(False), granted, broken)


def reporter_clause(user) -> sa.ColumnElement[bool]:
    if not can(user, "can_read_own"):
        return sa.false()
    return Case.reporter_id == user.id


def visible_cases_clause(user) -> sa.ColumnElement[bool]:
    """Every list, search, export and count of cases filters with this."""
    return sa.or_(full_access_clause(user), reporter_clause(user))


def visible_subjects_clause(user) -> sa.ColumnElement[bool]:
    """Subjects the user may look up (by id or by name): none without `can_read Subject`, and never the person of a
    case the user may not work on. A colleague of concern is as need-to-know as the restricted case about them."""
    if not can(user, "can_read", "Subject"):
        return sa.false()
    return no_hidden_case_clause(user)


def no_hidden_case_clause(user) -> sa.ColumnElement[bool]:
    """Subjects who are not the person of any case the user may not work on: that a concern was raised about
    someone is itself case data."""
    return ~sa.exists().where(Case.subject_id == Subject.id, sa.not_(full_access_clause(user)))


def employer_access_clause(user) -> sa.ColumnElement[bool]:
    """The one per-record rule for partner employers, used by every list, page, API call and download: all of them
    with `can_read_all Employer` (the Prevent Lead), a Programme Director's own, and none for anyone else."""
    if not can(user, "can_read", "Employer"):
        return sa.false()
    if can(user, "can_read_all", "Employer"):
        return sa.true()
    return Employer.director_id == user.id


def training_access_clause(user) -> sa.ColumnElement[bool]:
    """The one per-record rule for staff training, over StaffMember (a training record, and its certificate, are its
    person's): everyone with `can_read_all Training` (officers, the Prevent Lead), one's own entry with `can_read
    Training` (every employee), nobody otherwise. Every list, page, download and API call filters with it."""
    if can(user, "can_read_all", "Training"):
        return sa.true()
    if can(user, "can_read", "Training"):
        return StaffMember.user_id == user.id
    return sa.false()


def speaker_request_clause(user) -> sa.ColumnElement[bool]:
    """The one per-record rule for requests to invite an external speaker or hold an event: every one with
    `can_read_all SpeakerRequest` (officers, the Prevent Lead), one's own with `can_read SpeakerRequest` (every
    employee), none otherwise. Every list, page and API call filters with it."""
    if can(user, "can_read_all", "SpeakerRequest"):
        return sa.true()
    if can(user, "can_read", "SpeakerRequest"):
        return SpeakerRequest.requested_by_id == user.id
    return sa.false()


def case_access(session, user, case_id: int) -> CaseAccess:
    row = session.execute(
        sa.select(full_access_clause(user).label("full"), reporter_clause(user).label("reporter"))
        .where(Case.id == case_id)
    ).first()
    if row is None:
        return CaseAccess.NONE
    if row.full:
        return CaseAccess.FULL
    return CaseAccess.REPORTER if row.reporter else CaseAccess.NONE


def all_permissions() -> Iterable[Permission]:
    seen: set[Permission] = set()
    for permissions in ROLE_MATRIX.values():
        for permission in permissions:
            if permission not in seen:
                seen.add(permission)
                yield permission


def case_workers(session) -> list:
    """Active users whose role works on cases (officers and the Lead): action owners, grantees, officers' email."""
    from app.models import User

    people = session.scalars(sa.select(User).where(User.active.is_(True)).order_by(User.first_name, User.id)).all()
    return [person for person in people if can(person, "can_read_all")]


# --- two-step sign-in -----------------------------------------------------------------------------------------

# Roles whose users must sign in with a second factor (TOTP, app/identity/two_step_pages.py); MFA_REQUIRED_FOR_ALL
# extends it to everyone.
SECOND_FACTOR_ROLES = frozenset({OFFICER, LEAD, ADMIN})


def mfa_required(user) -> bool:
    """Whether this user must use a second factor: the one place that decides."""
    if current_app.config.get("MFA_REQUIRED_FOR_ALL"):
        return True
    return any(role.name in SECOND_FACTOR_ROLES for role in user.roles)
