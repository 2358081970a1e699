"""A risk and its actions as the API gives them; the same shape is what a sign-off keeps (RiskReview.snapshot), so
that a signed-off version reads as the assessment did."""
from __future__ import annotations

from datetime import date
from typing import Any

from app.risks.models import Risk, RiskAction, RiskReview
from app.risks.schemas import AREA_LABELS


def person(user) -> str:
    return f"{user.first_name} {user.last_name}".strip() or user.username


def action_json(action: RiskAction, today: date) -> dict[str, Any]:
    return {
        "id": action.id, "risk_id": action.risk_id, "title": action.title, "owner_id": action.owner_id,
        "owner": person(action.owner), "due_date": action.due_date.isoformat(), "status": action.status.value,
        "overdue": action.overdue(today), "completion_note": action.completion_note,
        "completed_at": action.completed_at.isoformat() if action.completed_at else None, "version": action.version,
    }


def risk_json(risk: Risk, today: date) -> dict[str, Any]:
    return {
        "id": risk.id, "area": risk.area.value, "area_label": AREA_LABELS[risk.area], "title": risk.title,
        "likelihood": risk.likelihood, "impact": risk.impact, "score": risk.score, "rag": risk.rag.value,
        "controls": risk.controls, "version": risk.version, "updated_at": risk.updated_at.isoformat(),
        "actions": [action_json(action, today) for action in risk.actions],
    }


def review_json(review: RiskReview, number: int) -> dict[str, Any]:
    """A signed-off version: `number` counts the sign-offs from the first (1); `risks` as they stood."""
    return {
        "id": review.id, "number": number, "signed_off_at": review.signed_off_at.isoformat(),
        "signed_off_by": person(review.signed_off_by), "note": review.note, "risks": review.snapshot,
    }
