"""How `flask audit verify --records` holds up with many cases: the same database as bench/case_list.py, its rows
sealed by `flask audit seal-existing` (as after an upgrade), then verified, with the time of each and of a plain
`count(*)` of every sealed table for scale.

    .venv/bin/python bench/record_seals.py [--cases 100000] [--database-url postgresql://...]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.case_list import filled_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'bench' / 'out' / 'seals.db'}")
    args = parser.parse_args()
    app = filled_app(args.database_url, args.cases, "seals-audit-head.json")
    with app.app_context():
        from app.extensions import db
        from app.kernel import audit_verify, record_seals, sealing

        started = time.perf_counter()
        for mapper in record_seals.sealed_mappers():
            db.session.scalar(sa.select(sa.func.count()).select_from(mapper.local_table))
        counted = time.perf_counter() - started
        started = time.perf_counter()
        sealed = sealing.seal_existing()
        print(f"seal-existing: {sealed} records in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        result = audit_verify.verify(db.session, records=True)
        took = time.perf_counter() - started
        print(f"verify --records: {result.records.checked} records, {result.events} events, ok={result.ok}, "
              f"{took:.1f} s ({took / counted:.0f} x counting the tables)", flush=True)


if __name__ == "__main__":
    main()
