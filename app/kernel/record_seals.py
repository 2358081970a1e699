"""Record seals: the audit trail vouches for the records too, not only for itself.

Every audit event carries, per record its change covers, the HMAC (under AUDIT_KEY) of the record's row as the
transaction left it, or "deleted". `flask audit verify --records` recomputes every row of every audited model and
compares it with the last seal the chain holds for it: a row edited, added or deleted in the database behind the
app's back no longer matches, has no seal, or has a seal but no row. Rows are read straight from their tables (every
column) at sealing and at verifying alike, so that both see the same values.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapper, Session

DELETED = "deleted"
BATCH = 1000
# What people call the records whose class name says it less plainly.
_NAMES = {"CaseEntry": "chronology entry", "CaseAction": "action", "CaseAccessGrant": "access grant"}


def sealed_mappers() -> list[Mapper]:
    """The audited models, whose rows the audit events seal."""
    return sorted((m for m in Model.registry.mappers if getattr(m.class_, "__audited__", False)),
                  key=lambda m: m.class_.__name__)


def is_sealed(entity: Any) -> bool:
    return getattr(type(entity), "__audited__", False)


def record_key(mapper: Mapper, identity: Iterable[Any]) -> str:
    return f"{mapper.class_.__name__}/{'/'.join(str(part) for part in identity)}"


def record_name(key: str) -> str:
    """"CaseAction/7" as people say it: "action 7"."""
    model, _, ident = key.partition("/")
    return f"{_NAMES.get(model) or re.sub(r'(?<!^)(?=[A-Z])', ' ', model).lower()} {ident}"


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    return value


def row_seal(key: str, record: str, row: sa.RowMapping) -> str:
    content = {"record": record, "row": {name: _plain(value) for name, value in row.items()}}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def pk_filter(mapper: Mapper, identities: list[tuple]) -> sa.ColumnElement[bool]:
    columns = mapper.primary_key
    if len(columns) == 1:
        return columns[0].in_([identity[0] for identity in identities])
    return sa.tuple_(*columns).in_(identities)


def seal_records(session: Session, key: str, entities: Iterable[Any]) -> dict[str, str]:
    """The seal of each of `entities` (audited ones that reached the database) as the transaction has them now."""
    wanted: dict[Mapper, dict[tuple, str]] = {}
    for entity in entities:
        state = sa.inspect(entity)
        if is_sealed(entity) and state.identity is not None:
            wanted.setdefault(state.mapper, {})[state.identity] = record_key(state.mapper, state.identity)
    seals: dict[str, str] = {}
    for mapper, records in wanted.items():
        identities = list(records)
        for start in range(0, len(identities), 500):
            chunk = identities[start:start + 500]
            rows = session.execute(sa.select(mapper.local_table).where(pk_filter(mapper, chunk))).mappings()
            for row in rows:
                record = records[tuple(row[column] for column in mapper.primary_key)]
                seals[record] = row_seal(key, record, row)
        for record in records.values():
            seals.setdefault(record, DELETED)
    return seals


def unsealed(session: Session, mapper: Mapper, sealed: dict[str, str]) -> list[tuple]:
    """The primary keys of `mapper`'s rows that no seal in `sealed` covers."""
    columns = mapper.primary_key
    rows = session.execute(sa.select(*columns).order_by(*columns).execution_options(yield_per=BATCH))
    return [tuple(row) for row in rows if record_key(mapper, row) not in sealed]


@dataclass
class RecordsCheck:
    checked: int = 0
    findings: list[str] = field(default_factory=list)


def check_records(session: Session, key: str, sealed: dict[str, str],
                  progress: Callable[[str, int, int], None] = lambda model, done, total: None) -> RecordsCheck:
    """Every row of every audited model against its last seal in `sealed` (which this consumes). Rows are read in
    batches in key order; nothing is queried per row."""
    result = RecordsCheck()
    for mapper in sealed_mappers():
        table, columns = mapper.local_table, mapper.primary_key
        total = session.scalar(sa.select(sa.func.count()).select_from(table))
        done = 0
        rows = session.execute(sa.select(table).order_by(*columns).execution_options(yield_per=BATCH)).mappings()
        for row in rows:
            record = record_key(mapper, (row[column] for column in columns))
            seal = sealed.pop(record, None)
            if seal is None:
                result.findings.append(f"{record_name(record)}: no audit event seals it (added behind the app's back)")
            elif not hmac.compare_digest(seal, row_seal(key, record, row)):
                result.findings.append(f"{record_name(record)}: changed since its last audited change")
            done += 1
            if done % BATCH == 0:
                progress(mapper.class_.__name__, done, total)
        progress(mapper.class_.__name__, done, total)
        result.checked += done
    result.findings += [f"{record_name(record)}: gone, though no audited change deleted it"
                        for record, seal in sorted(sealed.items()) if seal != DELETED]
    return result
