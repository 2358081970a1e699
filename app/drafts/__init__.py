"""Nothing typed is lost: server-side drafts of the concern form and every case form, the idle warning before a
session ends, and a form posted after the session ended kept as its user's draft (see use_cases.py and pages.py)."""
