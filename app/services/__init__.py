"""Use cases: each opens a unit of work (uow.py), checks access, changes, audits, commits once.

Every commit in app/ goes through that unit of work, wherever the use case lives (the sign-in, session, idempotency,
seed and CLI modules use it too), apart from the outbox worker's claim protocol, listed with its reasons in
uow.COMMIT_EXCEPTIONS; tests/test_house_rules.py fails on any other. Reading a case logs it in the same way: pages and
the API open a case through cases.read_case, read_chronology and read_audit_trail, which write the access log."""
