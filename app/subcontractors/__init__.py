"""Subcontracted provision (the provider's policy, section 3): subcontractors as organisations, their staff and
concerns about their learners."""
