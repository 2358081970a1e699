"""How the officers' case list, the Lead's dashboard and the nightly retention run hold up with many cases, as ratios
measured in one run.

    .venv/bin/python bench/case_list.py [--cases 100000] [--database-url postgresql://postgres@127.0.0.1:5432/bench]

Builds a database of its own (SQLite in bench/out/ by default; a PostgreSQL database is emptied first), fills it with
`--cases` concerns, their subjects, chronology entries and actions by bulk insert (the services' audit chain is not
what is measured here), then times each query against the cheapest one, `count(*)` of cases, in the same run.
A ratio that grows with --cases is a query that does not scale.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'bench' / 'out' / 'bench.db'}")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    app = filled_app(args.database_url, args.cases, "audit-head.json")
    with app.app_context():
        measure(app, args.repeat)


def filled_app(database_url: str, cases: int, head_file: str):
    """An app on a database of its own (emptied first), migrated, with its roles and reference data, and filled with
    `cases` concerns. Shared by the benches."""
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("AUDIT_KEY", "bench-only")
    os.environ["AUDIT_HEAD_PATH"] = str(ROOT / "bench" / "out" / head_file)
    Path(os.environ["AUDIT_HEAD_PATH"]).unlink(missing_ok=True)
    from config import Config, _sqlalchemy_url

    url = _sqlalchemy_url(database_url)
    reset(url)

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url

    from app import create_app

    app = create_app(BenchConfig)
    with app.app_context():
        from flask_migrate import upgrade

        from app.cli import sync_roles
        from app.seed import seed_reference

        upgrade()
        sync_roles()
        seed_reference()
        fill(app, cases)
    return app


def reset(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def fill(app, count: int) -> None:
    from app.extensions import db
    from app.models import Case, CaseAction, CaseEntry, CaseStatus, ConcernType, Subject, SubjectType

    sm = app.appbuilder.sm
    officer = sm.add_user("officer", "Olu", "Officer", "officer@example.org", sm.find_role("Safeguarding Officer"),
                          "bench-password-not-used")
    staff = sm.add_user("staff", "Sid", "Staff", "staff@example.org", sm.find_role("Staff"), "bench-password-not-used")
    types = db.session.scalars(sa.select(ConcernType.id)).all()
    rng = random.Random(42)
    now = datetime.now(UTC)
    statuses = list(CaseStatus)
    started = time.perf_counter()
    batch = 10_000
    for first in range(1, count + 1, batch):
        ids = range(first, min(first + batch, count + 1))
        db.session.execute(sa.insert(Subject), [
            {"id": i, "full_name": f"Person {i}", "subject_type": SubjectType.learner, "name_key": f"person {i}",
             "learner_ref": f"L{i:07d}", "date_of_birth": date(2005, 1, 1) + timedelta(days=i % 2000),
             "created_at": now, "created_by_id": staff.id} for i in ids])
        cases = []
        for i in ids:
            status = rng.choice(statuses)
            cases.append({
                "id": i, "subject_id": i, "reporter_id": staff.id, "description": "Bench concern",
                "occurred_at": now - timedelta(days=rng.randrange(700)), "recorded_at": now - timedelta(
                    days=rng.randrange(700)), "concern_type_id": rng.choice(types), "status": status,
                "closure_outcome": "no_further_action" if status == CaseStatus.closed else None,
                "urgent": rng.random() < 0.02, "restricted": rng.random() < 0.05, "version": 1,
                "immediate_danger": False, "police_called": False, "dso_informed_verbally": False})
        db.session.execute(sa.insert(Case), cases)
        db.session.execute(sa.insert(CaseEntry), [
            {"case_id": i, "actor_id": officer.id, "kind": "transition", "summary": "Acknowledge",
             "at": now - timedelta(days=rng.randrange(120))} for i in ids])
        db.session.execute(sa.insert(CaseAction), [
            {"case_id": i, "title": "Follow up", "owner_id": officer.id, "status": "open",
             "due_date": date.today() + timedelta(days=rng.randrange(-30, 30)), "created_at": now,
             "created_by_id": officer.id, "version": 1} for i in ids if i % 3 == 0])
        db.session.commit()
    print(f"{count} cases inserted in {time.perf_counter() - started:.1f} s", flush=True)
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()


def measure(app, repeat: int) -> None:
    from app.cases import use_cases as cases
    from app.cases.use_cases import CaseFilters
    from app.extensions import db
    from app.governance import oversight, retention
    from app.models import Case

    officer = app.appbuilder.sm.find_user("officer")
    lead = app.appbuilder.sm.add_user("lead", "Lee", "Lead", "lead@example.org", app.appbuilder.sm.find_role(
        "Prevent Lead"), "bench-password-not-used")

    def timed(work) -> float:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
            db.session.rollback()
        return statistics.median(times)

    baseline = timed(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(Case)))
    checks = {
        "case list, first page (urgent first)": lambda: cases.list_cases(db.session, officer, CaseFilters()),
        "case list, page 100": lambda: cases.list_cases(db.session, officer, CaseFilters(), page=100),
        "filter: overdue actions": lambda: cases.list_cases(db.session, officer, CaseFilters(overdue=True)),
        "filter: stalled": lambda: cases.list_cases(db.session, officer, CaseFilters(stalled=True)),
        "search: a reference": lambda: cases.list_cases(db.session, officer, CaseFilters(search="PC-2026-54321")),
        "search: part of a name": lambda: cases.list_cases(db.session, officer, CaseFilters(search="person 4321")),
        "the Lead's dashboard": lambda: oversight.dashboard(db.session, lead),
        "the nightly retention run, nothing due": lambda: retention.run(date.today()),
    }
    print(f"baseline count(*) of cases: {baseline * 1000:.2f} ms (median of {repeat})")
    for name, work in checks.items():
        spent = timed(work)
        print(f"{name:40s} {spent * 1000:9.1f} ms   {spent / baseline:8.1f} x baseline")


if __name__ == "__main__":
    main()
