"""A draft: what one user typed into one form and has not sent yet."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.columns import UTCDateTime, utcnow


class Draft(Model):
    """The fields of one form as one user left them, by form key ("concern", "case:42:note", "case:42:event:close").

    One per user and form key. `fields` is None when there is nothing to restore: the form was sent (then
    `sent_instance` names the copy of the form that was sent, so that a save from that copy arriving late is not
    taken for new words) or the user cleared it. `case_id` is the case a case form's draft is about, so that
    retention erases it with the case; drafts expire DRAFT_HOURS after their last change.
    """

    __tablename__ = "draft"
    __table_args__ = (sa.UniqueConstraint("user_id", "form_key", name="uq_draft_user_form_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE"))
    form_key: Mapped[str] = mapped_column(sa.String(120))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("prevent_case.id", ondelete="CASCADE"), index=True)
    fields: Mapped[dict | None] = mapped_column(sa.JSON(none_as_null=True))  # None: SQL NULL, not JSON null
    sent_instance: Mapped[str | None] = mapped_column(sa.String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
