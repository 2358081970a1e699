"""retention: legal hold, erasure proposals and approvals on subjects; audit events whose content may be erased

Revision ID: 0008
Revises: 0007

The audit trail's triggers are replaced by ones that allow a single kind of UPDATE: setting `reason` and `changes`
to NULL while every other column stays as it was. That is how retention erases personal data from the trail;
`app.audit.verify` accepts such an event only where a later, sealed "retention_erasure" event vouches for it.
"""
import sqlalchemy as sa
from alembic import op

from migrations import frozen

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

AUDIT = "audit_event"
ERASABLE = ("reason", "changes")
KEPT = ("seq", "at", "actor_id", "actor", "action", "entity_type", "entity_id", "case_id", "from_status",
        "to_status", "prev_hash", "hash")


def create_triggers(connection: sa.engine.Connection) -> None:
    """audit_event append-only but for erasure (used by tests that drop and restore the triggers)."""
    frozen.create_append_only_triggers(connection, AUDIT, erasable=ERASABLE, kept=KEPT)


def drop_triggers(connection: sa.engine.Connection) -> None:
    frozen.drop_append_only_triggers(connection, AUDIT)


def upgrade():
    with op.batch_alter_table("subject", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_member_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("legal_hold", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("legal_hold_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("erasure_due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("erasure_rule", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("erasure_approved_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("erasure_approved_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key("fk_subject_staff_member_id_staff_member", "staff_member",
                                    ["staff_member_id"], ["id"])
        batch_op.create_foreign_key("fk_subject_erasure_approved_by_id_ab_user", "ab_user",
                                    ["erasure_approved_by_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_subject_erased_at"), ["erased_at"], unique=False)
    connection = op.get_bind()
    frozen.drop_append_only_triggers(connection, AUDIT)
    create_triggers(connection)


def downgrade():
    connection = op.get_bind()
    drop_triggers(connection)
    frozen.create_append_only_triggers(connection, AUDIT)
    with op.batch_alter_table("subject", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_erased_at"))
        batch_op.drop_constraint("fk_subject_erasure_approved_by_id_ab_user", type_="foreignkey")
        batch_op.drop_constraint("fk_subject_staff_member_id_staff_member", type_="foreignkey")
        for column in ("erased_at", "erasure_approved_at", "erasure_approved_by_id", "erasure_rule",
                       "erasure_due_on", "legal_hold_reason", "legal_hold", "staff_member_id"):
            batch_op.drop_column(column)
