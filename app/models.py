"""The design card's entry point for models: every table and enum, re-exported from the area that owns it. No commits
and no Flask request objects in any models module: use cases own both."""
from __future__ import annotations

from flask_appbuilder.security.sqla.models import Role, User

from app.cases.models import (
    REFERENCE_PREFIX,
    ActionStatus,
    BreakGlass,
    Case,
    CaseAccessGrant,
    CaseAction,
    CaseAttachment,
    CaseEntry,
    CaseStatus,
    ClosureOutcome,
    ConcernType,
    Indicator,
    IndicatorKind,
    PersonInvolved,
    StatisticsCategory,
    Subject,
    SubjectType,
    case_indicator,
    format_reference,
    parse_reference,
    stalled_clause,
)
from app.cases.parallel_models import ParallelReferral, ParallelReferralKind, ReferrerRisk, ReferrerSafety
from app.cases.referral_models import ReferralDetails
from app.directory.models import ContactKind, DirectoryContact
from app.drafts.models import Draft
from app.employers.models import (
    AttachmentKind,
    CommunicationAttachment,
    CommunicationMethod,
    Employer,
    EmployerCommunication,
    SharedItem,
)
from app.governance.models import AccessAlert, AccessLogEntry, CaseReview
from app.identity.models import (
    AccountState,
    RecoveryCode,
    RefreshToken,
    RoleGrantRequest,
    RoleGrantStatus,
    SecondFactor,
)
from app.kernel.columns import UTCDateTime, enum_column, utcnow
from app.kernel.models import AuditEvent, IdempotencyKey, ProviderSetting, StoredFile
from app.monitoring.models import AlertSeverity, AlertState, MonitoringAlert, MonitoringSource
from app.notifications.models import EmailStatus, NotificationPreference, OutboxEmail
from app.training.models import StaffMember, TrainingCourse, TrainingRecord

__all__ = [
    "AccessAlert", "AccessLogEntry", "AccountState", "ActionStatus", "AlertSeverity", "AlertState", "AttachmentKind",
    "AuditEvent", "BreakGlass",
    "Case", "CaseAccessGrant", "CaseAction", "CaseAttachment", "CaseEntry", "CaseReview", "CaseStatus",
    "ClosureOutcome", "CommunicationAttachment", "CommunicationMethod", "ConcernType", "ContactKind",
    "DirectoryContact", "Draft", "EmailStatus", "Employer", "EmployerCommunication", "IdempotencyKey", "Indicator",
    "IndicatorKind", "MonitoringAlert", "MonitoringSource", "NotificationPreference", "OutboxEmail",
    "ParallelReferral", "ParallelReferralKind",
    "PersonInvolved", "ProviderSetting", "REFERENCE_PREFIX", "RecoveryCode", "ReferralDetails", "ReferrerRisk",
    "ReferrerSafety", "RefreshToken", "Role", "RoleGrantRequest", "RoleGrantStatus", "SecondFactor", "SharedItem",
    "StaffMember", "StatisticsCategory", "StoredFile", "Subject", "SubjectType", "TrainingCourse", "TrainingRecord",
    "UTCDateTime", "User", "case_indicator", "enum_column", "format_reference", "parse_reference", "stalled_clause",
    "utcnow"
]
