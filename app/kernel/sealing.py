"""Sealing the records written before records were sealed (revision 0012), once, after upgrading: until then
`flask audit verify --records` names each of them as having no seal."""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from app.extensions import db
from app.kernel import audit, audit_verify, record_seals
from app.kernel.errors import Conflict
from app.kernel.uow import unit_of_work

SYSTEM = "system:seal-existing"
BATCH = 500  # records sealed per audit event


def seal_existing(progress: Callable[[str, int, int], None] = lambda model, done, total: None) -> int:
    """Seals, as they are now, the audited records that no audit event seals yet; returns how many. Refused while
    the chain does not hold: its seals tell which records are sealed already."""
    session = db.session
    chain, sealed = audit_verify.chain_seals(session)
    if not chain.ok:
        raise Conflict(f"The audit chain does not hold ({chain.problem}): nothing was sealed.")
    count = 0
    for mapper in record_seals.sealed_mappers():
        identities = record_seals.unsealed(session, mapper, sealed)
        session.rollback()
        for start in range(0, len(identities), BATCH):
            with unit_of_work(mapper.class_.__name__) as work:
                records = work.scalars(sa.select(mapper.class_).where(
                    record_seals.pk_filter(mapper, identities[start:start + BATCH]))).all()
                audit.record(work, SYSTEM, "seal_existing", records[0], covers=records[1:],
                             reason="Sealed as found: written before records were sealed.")
            progress(mapper.class_.__name__, min(start + BATCH, len(identities)), len(identities))
        count += len(identities)
    return count
