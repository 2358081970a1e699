"""Use cases. The only code that commits: each opens a unit of work, checks access, changes, audits, commits once."""
