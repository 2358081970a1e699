"""The design card's entry point for models: every table and enum, re-exported from the area that owns it. No commits
and no Flask request objects in any models module: use cases own both."""
from __future__ import annotations

from flask_appbuilder.security.sqla.models import Role, User

from app.british_values.models import BritishValue, BritishValuesActivity, LearnerVoiceSurvey
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
from app.policies.models import Policy, PolicyConfirmation, PolicyVersion
from app.risks.models import Rag, Risk, RiskAction, RiskArea, RiskReview
from app.speakers.models import EventFormat, SpeakerDecision, SpeakerRequest, SpeakerRisk
from app.subcontractors.models import Subcontractor
from app.training.models import CourseKind, StaffMember, TrainingCourse, TrainingRecord, TrainingRequirement

__all__ = [
    "AccessAlert", "AccessLogEntry", "AccountState", "ActionStatus", "AlertSeverity", "AlertState", "AttachmentKind",
    "AuditEvent", "BreakGlass", "BritishValue", "BritishValuesActivity", "Case", "CaseAccessGrant", "CaseAction",
    "CaseAttachment", "CaseEntry", "CaseReview", "CaseStatus", "ClosureOutcome", "CommunicationAttachment",
    "CommunicationMethod", "ConcernType", "ContactKind", "CourseKind", "DirectoryContact", "Draft", "EmailStatus",
    "Employer", "EmployerCommunication", "EventFormat", "IdempotencyKey", "Indicator", "IndicatorKind",
    "LearnerVoiceSurvey", "MonitoringAlert", "MonitoringSource", "NotificationPreference", "OutboxEmail",
    "ParallelReferral", "ParallelReferralKind", "PersonInvolved", "Policy", "PolicyConfirmation", "PolicyVersion",
    "ProviderSetting", "REFERENCE_PREFIX", "Rag", "RecoveryCode", "ReferralDetails", "ReferrerRisk", "ReferrerSafety",
    "RefreshToken", "Risk", "RiskAction", "RiskArea", "RiskReview", "Role", "RoleGrantRequest", "RoleGrantStatus",
    "SecondFactor", "SharedItem", "SpeakerDecision", "SpeakerRequest", "SpeakerRisk", "StaffMember",
    "StatisticsCategory", "StoredFile", "Subcontractor", "Subject", "SubjectType", "TrainingCourse", "TrainingRecord",
    "TrainingRequirement", "UTCDateTime", "User", "case_indicator", "enum_column", "format_reference",
    "parse_reference", "stalled_clause", "utcnow",
]
