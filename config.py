"""Configuration, read from the environment.

Secrets never live in git. For a local run, `make run` writes random ones once to `instance/prevent.env`,
which is loaded here without overriding anything already set in the environment.
"""
import json
import os
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv
from flask_appbuilder.security.manager import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))
load_dotenv(INSTANCE_DIR / "prevent.env", override=False)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _sqlalchemy_url(url: str) -> str:
    # psycopg 3 is the PostgreSQL driver; accept the usual postgres:// and postgresql:// spellings.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# Invented demo contacts: the real policy's names never ship with the app. Override with SAFEGUARDING_CONTACTS (JSON).
DEFAULT_CONTACTS = [
    {"name": "Alex Morgan", "role": "Designated Safeguarding Officer", "phone": "0117 000 0001",
     "out_of_hours": "07700 900001", "email": "safeguarding@example.org"},
    {"name": "Sam Patel", "role": "Designated Safeguarding Officer", "phone": "0117 000 0002",
     "out_of_hours": "07700 900002", "email": "safeguarding@example.org"},
]


class Config:
    APP_NAME = "Prevent Casework"
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # Keys the audit hash chain; kept outside the database so that nobody with only database access can re-seal it.
    AUDIT_KEY = os.environ.get("AUDIT_KEY")
    # The last chain head seen by the app, kept outside the database, so that a cut-off tail is found.
    AUDIT_HEAD_PATH = os.environ.get("AUDIT_HEAD_PATH", str(INSTANCE_DIR / "audit-head.json"))

    SQLALCHEMY_DATABASE_URI = _sqlalchemy_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'prevent.db'}")
    )
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Flask-AppBuilder
    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_PUBLIC = None
    FAB_SECURITY_MANAGER_CLASS = "app.kernel.security.PreventSecurityManager"
    FAB_ADD_SECURITY_API = True
    FAB_API_SWAGGER_UI = _env_bool("API_DOCS", True)
    # Roles and permissions are applied by `flask prevent sync-roles`, never at web start-up
    # (several gunicorn workers would race to write them) and never behind Alembic's back.
    FAB_UPDATE_PERMS = False
    FAB_CREATE_DB = False
    FAB_API_MAX_PAGE_SIZE = 100
    FAB_BASE_TEMPLATE = "prevent_base.html"
    FAB_INDEX_VIEW = "app.kernel.pages.HomeView"
    FAB_API_SHOW_STACKTRACE = False

    # Sessions (app/identity/sessions.py): a signed-in session ends after this long without a request, and this long
    # after signing in, whatever happens. API refresh tokens last no longer than a session, and end as soon as they are
    # not used for SESSION_IDLE_MINUTES: an access token lasts half that, so that a client that refreshes when its
    # access token expires is never idle for that long.
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
    SESSION_MAX_HOURS = int(os.environ.get("SESSION_MAX_HOURS", "12"))
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=min(30, SESSION_IDLE_MINUTES / 2))
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(hours=SESSION_MAX_HOURS)
    # Drafts (app/drafts): the idle warning shows this long before an idle sign-out, with "Stay signed in"; what a
    # user typed into the concern form or a case form and has not sent is kept for DRAFT_HOURS after its last change.
    SESSION_IDLE_WARNING_SECONDS = int(os.environ.get("SESSION_IDLE_WARNING_SECONDS", "120"))
    DRAFT_HOURS = int(os.environ.get("DRAFT_HOURS", "24"))
    # Sign-in brute force (app/identity/sign_in.py): every LOCKOUT_THRESHOLD failed sign-ins in a row (wrong passwords
    # and wrong second-step codes together) lock the account for LOCKOUT_MINUTES (0 turns lockout off). Failed sign-ins
    # (web and API together) are also rate limited per client address and per username; the limits are kept in
    # RATELIMIT_STORAGE_URI: memory:// holds for one process only, so with several gunicorn workers use Redis
    # (redis://host:6379/0).
    LOCKOUT_THRESHOLD = int(os.environ.get("LOCKOUT_THRESHOLD", "5"))
    LOCKOUT_MINUTES = int(os.environ.get("LOCKOUT_MINUTES", "15"))
    SIGN_IN_RATE_LIMITED = _env_bool("SIGN_IN_RATE_LIMITED", True)
    SIGN_IN_RATE_LIMIT = os.environ.get("SIGN_IN_RATE_LIMIT", "10 per 5 minutes")  # per client address
    SIGN_IN_USERNAME_RATE_LIMIT = os.environ.get("SIGN_IN_USERNAME_RATE_LIMIT", "10 per 15 minutes")
    RATELIMIT_ENABLED = True  # FAB turns Flask-Limiter off unless told; SIGN_IN_RATE_LIMITED is the switch to use
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # If Redis is down, each worker limits in its own memory until it is back, rather than failing every sign-in.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "prevent-casework")  # apps sharing one Redis
    # Monitoring alerts in (app/monitoring): each source's key may send this many (Flask-Limiter's notation).
    MONITORING_RATE_LIMIT = os.environ.get("MONITORING_RATE_LIMIT", "120 per minute")
    # FAB's own limit (every POST to the web sign-in page, successful or not): off, ours above covers both sign-ins.
    AUTH_RATE_LIMITED = False

    # Passwords: at least this long and not a common one (app/identity/passwords.py), wherever they are set.
    PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", "12"))
    FAB_PASSWORD_COMPLEXITY_ENABLED = True  # FAB's forms and user API call app.identity.passwords.check_password

    # Separation of duties (app/identity/accounts.py): the Prevent Lead and Safeguarding Officer roles are given only
    # with a second person's approval, except by this one Admin account (a username), for emergencies. Unset: none.
    BREAK_GLASS_ADMIN = os.environ.get("BREAK_GLASS_ADMIN") or None

    # Two-step sign-in (app/identity/two_step_pages.py). Safeguarding Officers, the Prevent Lead and Admins always use
    # it; true here makes everyone use it. Wrong codes count with wrong passwords towards LOCKOUT_THRESHOLD.
    MFA_REQUIRED_FOR_ALL = _env_bool("MFA_REQUIRED_FOR_ALL", False)
    # A base32 TOTP secret: on a new demo database, the demo users who must use a second factor are enrolled with it
    # (put it in your authenticator app once). Unset, they set up their own at first sign-in. Never for production.
    DEMO_TOTP_SECRET = os.environ.get("DEMO_TOTP_SECRET")

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the session's own lifetime bounds the token
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Secure is also set on every cookie of a request served over HTTPS (app/kernel/http_headers.py).
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Behind a reverse proxy: how many proxies to trust for X-Forwarded-For/-Proto/-Host/-Port/-Prefix. 0 trusts none.
    PROXY_FIX = int(os.environ.get("PROXY_FIX", "0"))
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)

    # Email (Flask-Mail), delivered from the outbox by `flask outbox deliver`
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Prevent Casework <prevent-casework@localhost>")
    MAIL_MESSAGE_ID_DOMAIN = os.environ.get("MAIL_MESSAGE_ID_DOMAIN", "prevent-casework.local")
    MAIL_SUPPRESS_SEND = False  # Flask-Mail would otherwise drop every email under TESTING; tests use a real server
    MAIL_TIMEOUT_SECONDS = int(os.environ.get("MAIL_TIMEOUT_SECONDS", "30"))
    # The address users sign in at: the links in emails point here.
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:8080")
    OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "10"))
    OUTBOX_BACKOFF_SECONDS = int(os.environ.get("OUTBOX_BACKOFF_SECONDS", "30"))
    OUTBOX_BACKOFF_MAX_SECONDS = int(os.environ.get("OUTBOX_BACKOFF_MAX_SECONDS", "3600"))
    # A worker's claim on the emails it is sending lasts this long unless renewed (it renews before each message);
    # then another worker takes them up. Keep it well above the time one message may take (MAIL_TIMEOUT_SECONDS).
    OUTBOX_LEASE_SECONDS = int(os.environ.get("OUTBOX_LEASE_SECONDS", "300"))
    # How long an API request's Idempotency-Key (and a page form's one-time token) is remembered with its answer.
    IDEMPOTENCY_KEY_HOURS = int(os.environ.get("IDEMPOTENCY_KEY_HOURS", "24"))
    STALLED_AFTER_DAYS = int(os.environ.get("STALLED_AFTER_DAYS", "30"))
    # The Prevent Lead's oversight: a periodic review of each open case, and a flag on unusual access.
    LEAD_REVIEW_INTERVAL_DAYS = int(os.environ.get("LEAD_REVIEW_INTERVAL_DAYS", "90"))
    # Retention of the records about adults, the public, learners of 18 or more and anyone whose date of birth is
    # unknown: this many years after the last of their cases closed (children's and staff's periods are fixed by
    # policy).
    RETENTION_OTHER_YEARS = int(os.environ.get("RETENTION_OTHER_YEARS", "6"))
    UNUSUAL_ACCESS_CASES = int(os.environ.get("UNUSUAL_ACCESS_CASES", "10"))
    UNUSUAL_ACCESS_MINUTES = int(os.environ.get("UNUSUAL_ACCESS_MINUTES", "60"))
    # How long the Prevent Lead's "break glass" access to a restricted case lasts (hours) before they must give a
    # reason again.
    BREAK_GLASS_HOURS = int(os.environ.get("BREAK_GLASS_HOURS", "24"))
    POLICE_OUTCOME_WORKING_DAYS = int(os.environ.get("POLICE_OUTCOME_WORKING_DAYS", "10"))

    SAFEGUARDING_CONTACTS = json.loads(os.environ["SAFEGUARDING_CONTACTS"]) if os.environ.get(
        "SAFEGUARDING_CONTACTS") else DEFAULT_CONTACTS

    # Partner employers: the provider's name in the awareness email, how long its acknowledgement link works, and
    # when the next contact falls due after each communication.
    PROVIDER_NAME = os.environ.get("PROVIDER_NAME", "Example Training Provider")
    EMPLOYER_ACK_LINK_DAYS = int(os.environ.get("EMPLOYER_ACK_LINK_DAYS", "30"))
    EMPLOYER_CONTACT_INTERVAL_MONTHS = int(os.environ.get("EMPLOYER_CONTACT_INTERVAL_MONTHS", "12"))
    # Uploaded files (kept in the database): the types accepted, told by their content, and the largest accepted.
    UPLOAD_TYPES = os.environ.get("UPLOAD_TYPES", "pdf,png,jpeg,docx").split(",")
    UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", str(5 * 1024 * 1024)))
    # Staff training: the refresher falls due this many months after a completion; the largest CSV an import reads.
    TRAINING_REFRESHER_MONTHS = int(os.environ.get("TRAINING_REFRESHER_MONTHS", "24"))
    TRAINING_IMPORT_MAX_BYTES = int(os.environ.get("TRAINING_IMPORT_MAX_BYTES", str(2 * 1024 * 1024)))
    # Anything much larger than one upload (a file, or a CSV to import) is refused with 413 before it is read.
    MAX_CONTENT_LENGTH = max(UPLOAD_MAX_BYTES, TRAINING_IMPORT_MAX_BYTES) + 1024 * 1024


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    AUDIT_KEY = "test-audit-key-not-for-production"
    # Retries are due at once and give up soon, so that tests see every outcome without waiting.
    OUTBOX_BACKOFF_SECONDS = 0
    OUTBOX_MAX_ATTEMPTS = 4
    MAIL_DEFAULT_SENDER = "Prevent Casework <prevent-casework@example.org>"
    # The suite signs in hundreds of times from one address: the tests of the limits switch them on for themselves.
    SIGN_IN_RATE_LIMITED = False
    # The suite also checks thousands of passwords: a cheap hash here only (production keeps FAB's scrypt). The
    # timing test of the sign-in answers puts scrypt back for itself (tests/test_brute_force.py).
    FAB_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"
    AUTH_DB_FAKE_PASSWORD_HASH_CHECK = "pbkdf2:sha256:1$dummysalt$" + "0" * 64
