"""Governance: the Lead's oversight, the Programme Board report, retention and subject rights, the audit trail's
pages."""
