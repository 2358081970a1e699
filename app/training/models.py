"""Staff training: the staff list, the courses and each completion."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum  # str() and f-strings give the value

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.columns import UTCDateTime, enum_column, utcnow
from app.kernel.models import StoredFile
from app.subcontractors.models import Subcontractor


class StaffMember(Model):
    """An employee who must be trained in the Prevent duty: with a sign-in (user) or imported without one."""

    __tablename__ = "staff_member"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(320), unique=True)
    employee_ref: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    team: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"), unique=True)
    manager_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    active: Mapped[bool] = mapped_column(default=True)
    left_on: Mapped[date | None]
    # Someone who works for a subcontractor (the provider's policy, section 3): compliance is shown per subcontractor.
    subcontractor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subcontractor.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id])
    subcontractor: Mapped[Subcontractor | None] = relationship()
    training: Mapped[list[TrainingRecord]] = relationship(back_populates="staff_member",
                                                            order_by="TrainingRecord.completed_on.desc()")


class CourseKind(StrEnum):
    prevent = "prevent"  # Prevent duty training: any current one meets the rule for everyone
    other = "other"  # related training (safeguarding, online safety ...): counts only where the Lead requires it


class TrainingCourse(Model):
    """Seeded with the Home Office Prevent duty eLearning, Channel awareness and a refresher; extendable. A course's
    own refresher interval (months), when set, replaces the provider's setting for its completions."""

    __tablename__ = "training_course"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    kind: Mapped[CourseKind] = enum_column(CourseKind, default=CourseKind.prevent, server_default="prevent")
    refresher_months: Mapped[int | None]

    def __repr__(self) -> str:
        return self.name


class TrainingRecord(Model):
    __tablename__ = "training_record"
    __audited__ = True
    __table_args__ = (sa.UniqueConstraint("staff_member_id", "course_id", "completed_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_member_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_member.id"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("training_course.id"))
    completed_on: Mapped[date]
    certificate_ref: Mapped[str | None] = mapped_column(sa.String(100))
    certificate_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_file.id"))
    refresher_due: Mapped[date] = mapped_column(index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff_member: Mapped[StaffMember] = relationship(back_populates="training")
    course: Mapped[TrainingCourse] = relationship()
    certificate_file: Mapped[StoredFile | None] = relationship()
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])


class TrainingRequirement(Model):
    """A course the Prevent Lead requires of everyone with an app role (role: its name, such as "Safeguarding
    Officer") or in a team on the staff list (team). Exactly one of role and team. Removed ones stay, inactive."""

    __tablename__ = "training_requirement"
    __audited__ = True
    __table_args__ = (sa.CheckConstraint("(role IS NULL) <> (team IS NULL)", name="ck_training_requirement_who"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("training_course.id"), index=True)
    role: Mapped[str | None] = mapped_column(sa.String(64))
    team: Mapped[str | None] = mapped_column(sa.String(100))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))

    course: Mapped[TrainingCourse] = relationship()
