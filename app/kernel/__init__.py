"""The shared kernel, used by every area: the workflow table, the audit trail and record seals, the security matrix and
per-record check, the unit of work, errors, input parsing, formats, files, documents and the REST and page helpers."""
