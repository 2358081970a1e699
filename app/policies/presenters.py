"""How policies look in JSON: one's own view of a policy, and compliance."""
from __future__ import annotations

from typing import Any

from app.kernel.formats import iso
from app.models import Policy, PolicyVersion
from app.policies import use_cases as policies


def version_json(version: PolicyVersion) -> dict[str, Any]:
    return {"version": version.label, "owner": version.owner, "published_on": iso(version.published_on),
            "next_review_on": iso(version.next_review_on), "summary": version.summary,
            "document_url": version.document_url}


def applies_json(policy: Policy) -> dict[str, Any]:
    return {"everyone": policy.applies_to_all, "roles": policy.role_list, "teams": policy.team_list}


def my_policy_json(mine: policies.MyPolicy) -> dict[str, Any]:
    """A policy with its current version and the caller's own confirmation of it (nobody else's)."""
    return {"id": mine.policy.id, "name": mine.policy.name, "current_version": version_json(mine.current),
            "applies_to": applies_json(mine.policy), "applies_to_me": mine.applies,
            "confirmed": mine.confirmed_at is not None, "confirmed_at": iso(mine.confirmed_at),
            "confirmed_earlier_version": mine.earlier}


def compliance_json(result: policies.Compliance) -> dict[str, Any]:
    def figures(group: policies.Figures) -> dict[str, Any]:
        return {"active": group.active, "up_to_date": group.up_to_date, "percent": group.percent}

    answer: dict[str, Any] = {
        "as_of": iso(result.today), "overall": figures(result.overall),
        "teams": [{"team": group.label, **figures(group)} for group in result.teams],
        "policies": [{"id": f.policy.id, "name": f.policy.name, "version": f.version.label, "applies": f.applies,
                      "read": f.read, "percent": f.percent} for f in result.policies]}
    if result.outstanding is not None:
        answer["not_read"] = [{"staff_member_id": row.staff.id, "full_name": row.staff.full_name, "team": row.team,
                               "policies": row.policies} for row in result.outstanding]
    return answer
