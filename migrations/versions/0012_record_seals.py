"""record seals: each audit event seals the state of the records it covers; the access log is a chain of its own

Revision ID: 0012
Revises: 0011

`audit_event.seals` holds, per record an event covers ("Case/42"), the HMAC of the record's row after the change, or
"deleted": `flask audit verify --records` compares the current rows with them. It is kept by the append-only
triggers like every other column but `reason` and `changes` (retention's erasure empties only those).

`access_log` rows carry `seq`, `prev_hash` and `hash`: an HMAC chain of its own, written under a lock of its own, so
that an entry edited, deleted or added behind the app's back is found. The entries logged before this revision are
chained here, in the order they were logged, under the app's AUDIT_KEY. (Records written before it are sealed by
`flask audit seal-existing`, run once after upgrading.)
"""
import sqlalchemy as sa
from alembic import op

from app import append_only

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

AUDIT = "audit_event"
ERASABLE = ("reason", "changes")
KEPT = ("seq", "at", "actor_id", "actor", "action", "entity_type", "entity_id", "case_id", "from_status",
        "to_status", "prev_hash", "hash", "seals")


def create_triggers(connection: sa.engine.Connection) -> None:
    """audit_event append-only but for erasure (used by tests that drop and restore the triggers)."""
    append_only.create_triggers(connection, AUDIT, erasable=ERASABLE, kept=KEPT)


def drop_triggers(connection: sa.engine.Connection) -> None:
    append_only.drop_triggers(connection, AUDIT)


def upgrade():
    connection = op.get_bind()
    drop_triggers(connection)
    with op.batch_alter_table(AUDIT, schema=None) as batch_op:
        batch_op.add_column(sa.Column("seals", sa.JSON(), nullable=True))
    create_triggers(connection)
    append_only.drop_triggers(connection, "access_log")
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_access_log_seq", ["seq"])
        batch_op.create_unique_constraint("uq_access_log_prev_hash", ["prev_hash"])
        batch_op.create_unique_constraint("uq_access_log_hash", ["hash"])
    _chain_existing_entries(connection)
    append_only.create_triggers(connection, "access_log")


def _chain_existing_entries(connection: sa.engine.Connection) -> None:
    from app import audit
    from app.models import AccessLogEntry
    table = AccessLogEntry.__table__
    prev_hash = audit.GENESIS
    rows = connection.execute(sa.select(table).order_by(table.c.id)).mappings().all()
    for seq, row in enumerate(rows, start=1):
        entry = AccessLogEntry(**{**row, "seq": seq, "prev_hash": prev_hash})
        prev_hash = audit._access_seal(audit._audit_key(), entry)
        connection.execute(table.update().where(table.c.id == row["id"])
                           .values(seq=seq, prev_hash=entry.prev_hash, hash=prev_hash))
    if rows:
        try:
            audit.write_anchor({"seq": len(rows), "hash": prev_hash}, audit.ACCESS_CHAIN)
        except OSError as exc:  # `flask audit verify` says so until the app writes it
            print(f"The access log's head file could not be written: {exc}")


def downgrade():
    connection = op.get_bind()
    append_only.drop_triggers(connection, "access_log")
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_constraint("uq_access_log_hash", type_="unique")
        batch_op.drop_constraint("uq_access_log_prev_hash", type_="unique")
        batch_op.drop_constraint("uq_access_log_seq", type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
    append_only.create_triggers(connection, "access_log")
    drop_triggers(connection)
    with op.batch_alter_table(AUDIT, schema=None) as batch_op:
        batch_op.drop_column("seals")
    append_only.create_triggers(connection, AUDIT, erasable=ERASABLE, kept=KEPT[:-1])
