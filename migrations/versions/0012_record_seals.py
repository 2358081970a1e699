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
import fcntl
import hashlib
import hmac
import json
import os
from datetime import UTC
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from flask import current_app

from migrations import frozen

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
    frozen.create_append_only_triggers(connection, AUDIT, erasable=ERASABLE, kept=KEPT)


def drop_triggers(connection: sa.engine.Connection) -> None:
    frozen.drop_append_only_triggers(connection, AUDIT)


def upgrade():
    connection = op.get_bind()
    drop_triggers(connection)
    with op.batch_alter_table(AUDIT, schema=None) as batch_op:
        batch_op.add_column(sa.Column("seals", sa.JSON(), nullable=True))
    create_triggers(connection)
    frozen.drop_append_only_triggers(connection, "access_log")
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_access_log_seq", ["seq"])
        batch_op.create_unique_constraint("uq_access_log_prev_hash", ["prev_hash"])
        batch_op.create_unique_constraint("uq_access_log_hash", ["hash"])
    _chain_existing_entries(connection)
    frozen.create_append_only_triggers(connection, "access_log")


def _chain_existing_entries(connection: sa.engine.Connection) -> None:
    """Chains the entries already logged, exactly as the app chained new ones when this revision was written."""
    rows = connection.execute(sa.select(ACCESS_LOG).order_by(ACCESS_LOG.c.id)).mappings().all()
    if not rows:
        return
    key = _audit_key()
    prev_hash = GENESIS
    for seq, row in enumerate(rows, start=1):
        hash_ = _access_seal(key, {**row, "seq": seq, "prev_hash": prev_hash})
        connection.execute(ACCESS_LOG.update().where(ACCESS_LOG.c.id == row["id"])
                           .values(seq=seq, prev_hash=prev_hash, hash=hash_))
        prev_hash = hash_
    try:
        _write_access_log_anchor({"seq": len(rows), "hash": prev_hash})
    except OSError as exc:  # `flask audit verify` says so until the app writes it
        print(f"The access log's head file could not be written: {exc}")


# --- frozen from app/audit.py as it was at this revision: the access log chain's seal and its head file ----------

GENESIS = "0" * 64
ACCESS_LOG = sa.table("access_log", sa.column("id", sa.Integer), sa.column("at", sa.DateTime),
                      sa.column("user_id", sa.Integer), sa.column("case_id", sa.Integer),
                      sa.column("channel", sa.String), sa.column("what", sa.String),
                      sa.column("outside_own_work", sa.Boolean), sa.column("seq", sa.Integer),
                      sa.column("prev_hash", sa.String), sa.column("hash", sa.String))


def _audit_key() -> str:
    key = current_app.config.get("AUDIT_KEY")
    if not key:
        raise RuntimeError("AUDIT_KEY is not set: the audit chain cannot be written or verified without it.")
    return key


def _access_seal(key: str, entry: dict) -> str:
    """The HMAC over an entry's content, its place in the chain and its predecessor's hash."""
    at = entry["at"].replace(tzinfo=UTC)  # stored as naive UTC
    content = {"seq": entry["seq"], "at": at.isoformat(), "user_id": entry["user_id"], "case_id": entry["case_id"],
               "channel": entry["channel"], "what": entry["what"],
               "outside_own_work": bool(entry["outside_own_work"]), "prev_hash": entry["prev_hash"]}
    message = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _write_access_log_anchor(head: dict) -> None:
    """Beside AUDIT_HEAD_PATH, with "-access-log" added to its name; keeps the highest head written."""
    audit_head = current_app.config.get("AUDIT_HEAD_PATH")
    if not audit_head:
        return
    path = Path(audit_head).with_name(f"{Path(audit_head).stem}-access-log{Path(audit_head).suffix}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            with open(path, encoding="utf-8") as fh:
                current = json.load(fh)
            if current and current.get("seq", 0) >= head["seq"]:
                return
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(head, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)


def downgrade():
    connection = op.get_bind()
    frozen.drop_append_only_triggers(connection, "access_log")
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_constraint("uq_access_log_hash", type_="unique")
        batch_op.drop_constraint("uq_access_log_prev_hash", type_="unique")
        batch_op.drop_constraint("uq_access_log_seq", type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
    frozen.create_append_only_triggers(connection, "access_log")
    drop_triggers(connection)
    with op.batch_alter_table(AUDIT, schema=None) as batch_op:
        batch_op.drop_column("seals")
    frozen.create_append_only_triggers(connection, AUDIT, erasable=ERASABLE, kept=KEPT[:-1])
