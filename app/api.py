"""The REST API (`/api/v1`): the one place that lists every API resource. The resources live with their areas
(app/cases/api.py, app/employers/api.py, ...): JSON in, one use case, JSON out; what they share is
app/kernel/rest.py."""
from __future__ import annotations

from flask import jsonify

from app.british_values.api import BritishValuesApi, LearnerVoiceApi
from app.cases.api import ActionApi, CaseApi, MyWorkApi, ReferenceApi, SubjectApi
from app.cases.referral_api import ReferralFormApi
from app.cases.safeguarding_api import SafeguardingApi
from app.directory.api import DirectoryApi
from app.employers.api import CoverageApi, EmployerApi
from app.governance.api import AccessLogApi, AuditApi, EvidencePackApi, ReportApi, RetentionApi, SubjectRightsApi
from app.kernel.rest import guard_rison_arguments
from app.monitoring import api as monitoring_api
from app.monitoring.api import MonitoringApi
from app.policies.api import PolicyApi, PolicyComplianceApi
from app.risks.api import RiskApi
from app.speakers.api import SpeakerRequestApi
from app.subcontractors.api import SubcontractorApi
from app.training.api import ComplianceApi, CourseReferenceApi, TrainingRecordApi


def register(app) -> None:
    """The API's answers that no endpoint gives itself: malformed `q` and bad tokens; and the rate limit on
    monitoring alerts in."""
    guard_rison_arguments(app)
    monitoring_api.register(app)

    def bad_token(reason: str):
        # flask-jwt-extended answers 422 with its own wording; the contract says 401 for a bad token.
        return jsonify(message="Sign in again: the token is not valid."), 401

    jwt_manager = app.appbuilder.sm.jwt_manager
    jwt_manager.invalid_token_loader(bad_token)
    jwt_manager.unauthorized_loader(bad_token)


API_CLASSES = (SubjectRightsApi, RetentionApi, AccessLogApi, ReportApi, EvidencePackApi, CaseApi, ReferralFormApi,
               ActionApi, SubjectApi, ReferenceApi, AuditApi, EmployerApi, CoverageApi, TrainingRecordApi,
               ComplianceApi, MyWorkApi, DirectoryApi, SafeguardingApi, RiskApi, SpeakerRequestApi,
               PolicyComplianceApi, PolicyApi, BritishValuesApi, LearnerVoiceApi, CourseReferenceApi, SubcontractorApi,
               MonitoringApi)
