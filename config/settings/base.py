"""Settings for every environment; what differs between them comes from ``config.env``.

With no environment set this is the *embedded default*: a SQLite file under ``var/``
and Celery tasks run eagerly in-process. ``DATABASE_URL`` (PostgreSQL) and
``CELERY_BROKER_URL`` (Redis) switch to the production topology.
"""

from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str, read_env_file

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# The checkout's .env (scripts/serve writes it): defaults for what the environment lacks.
ENV_FILE = read_env_file(BASE_DIR / ".env")
VAR_DIR = Path(env_str("CONSORTIUM_VAR_DIR", str(BASE_DIR / "var")) or BASE_DIR / "var")

DEBUG = env_bool("DJANGO_DEBUG", default=False)

_secret = env_str("DJANGO_SECRET_KEY")
if _secret is None:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random value in production, "
            "or set DJANGO_DEBUG=true for local development (scripts/serve does)."
        )
    _secret = "insecure-development-key-never-used-when-DJANGO_DEBUG-is-false"  # noqa: S105
SECRET_KEY: str = _secret

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # The admin's theme: its templates come before Django's. BasicAppConfig, because the
    # default one replaces admin.site with a plain UnfoldAdminSite in ready(), which would
    # drop the workspace site (its entry rule and the rooms' URLs).
    "unfold.apps.BasicAppConfig",
    "config.admin.WorkspaceAdminConfig",  # django.contrib.admin, the workspace as its site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",  # report schedules in the database (consortium.reports.schedules)
    "ledger",
    "consortium",
]

MIDDLEWARE = [
    "consortium.api.middleware.DrainUnreadBody",  # keeps a connection usable after a 413
    "consortium.api.middleware.DjangoErrorsAsProblems",  # problem+json under /api/, debug too
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, in production too
    "consortium.api.middleware.GZipMiddleware",  # keeps strong ETags strong
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

# The deal-team workspace's theme (django-unfold; its CSS, fonts, icons and Chart.js are
# served from this service's static files, never another host).
UNFOLD = {
    "SITE_TITLE": "Consortium",
    "SITE_HEADER": "Consortium",
    "SITE_SUBHEADER": "Deal-team workspace",
    "SITE_SYMBOL": "hub",
    "SITE_URL": "/",
    "SHOW_VIEW_ON_SITE": False,
    "STYLES": ["consortium.admin.navigation.styles"],
    "DASHBOARD_CALLBACK": "consortium.admin.dashboards.landing",
    "SIDEBAR": {
        "show_search": False,
        "show_all_applications": False,
        "navigation": "consortium.admin.navigation.sidebar",
    },
}
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured(
            "DATABASE_URL must be a postgres:// URL; leave it unset for the embedded SQLite."
        )
    # A kept connection that PostgreSQL dropped while it was idle (a restart, a failover,
    # pg_terminate_backend) is found by a health check before its first use in each
    # request or task and replaced, instead of failing that statement (ledger.db,
    # ledger.connections: the paths past Django's own cursors check too).
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "consortium.sqlite3"),
            "OPTIONS": {
                # Writers queue for the lock instead of failing with "database is locked":
                # every transaction takes the write lock at BEGIN, and waits up to 30 s.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "memory://"
# Without a broker, tasks run eagerly in-process: the embedded default.
CELERY_TASK_ALWAYS_EAGER = env_str("CELERY_BROKER_URL") is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
# A lost broker must never hold up an append: publish once, quickly, or log the miss.
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker killed mid-task leaves its message unacknowledged; Redis redelivers it after
# this many seconds (rebuilds also resume from their saved progress via the sweep).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300)}
# Rebuilds keep their progress in the database, so a task cut off by a lost broker
# connection may be cancelled and redelivered (Celery 6's default).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
PROJECTION_SWEEP_SECONDS = env_int("PROJECTION_SWEEP_SECONDS", 5)
CELERY_BEAT_SCHEDULE = {
    "sweep-projections": {
        "task": "ledger.tasks.sweep_projections",
        "schedule": float(PROJECTION_SWEEP_SECONDS),
        # A sweep that waited a whole interval behind busy workers is dropped unrun: the
        # next one is already queued, so sweeps never pile up.
        "options": {"expires": float(PROJECTION_SWEEP_SECONDS)},
    },
    # Report deliveries whose queued attempt never came (a lost message) are queued again.
    "sweep-deliveries": {
        "task": "consortium.reports.tasks.sweep_deliveries",
        "schedule": 300.0,
        "options": {"expires": 300.0},
    },
}
# Beat reads its schedule from the database (django-celery-beat): report schedules are
# rows managed in the workspace, and the entries above are put back as written here
# whenever the database differs (consortium.reports.beat).
CELERY_BEAT_SCHEDULER = "consortium.reports.beat:ReportsScheduler"
# The sweep resumes a rebuild whose runner has saved no progress for this many seconds
# (its worker died); keep it well above the time one rebuild batch takes.
PROJECTION_STALE_REBUILD_SECONDS = env_int("PROJECTION_STALE_REBUILD_SECONDS", 30)
# Events a rebuild reads and applies per transaction (its progress is saved per batch).
PROJECTION_REBUILD_BATCH = env_int("PROJECTION_REBUILD_BATCH", 10_000)
# A worker starts catch-up rounds at most this often (milliseconds): under a stream of
# appends one round then covers all of them, at up to this much more lag.
PROJECTION_CATCH_UP_MIN_INTERVAL_MS = env_int("PROJECTION_CATCH_UP_MIN_INTERVAL_MS", 25)
# ``/api/v1/readyz/`` answers 503 (not ready) once a projection's oldest unapplied event
# has waited longer than this many seconds; it always reports each projection's lag.
READYZ_MAX_LAG_SECONDS = env_int("READYZ_MAX_LAG_SECONDS", 60)

# --- Auth, i18n, static ---------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The theme's login form carries no ``next``: signing in at /admin/login/ itself lands
# here (Django's default, /accounts/profile/, does not exist).
LOGIN_REDIRECT_URL = "admin:index"
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles"))
# WhiteNoise serves what collectstatic gathered (the admin theme's CSS, fonts and icons,
# the API docs' Swagger UI) from the web process, compressed, under content-hashed names
# that browsers may cache for good.
# Stored reports go through the default storage: local files under MEDIA_ROOT unless
# DJANGO_STORAGE_BACKEND names another (e.g. an S3 backend); never served as static.
MEDIA_ROOT = env_str("DJANGO_MEDIA_ROOT", str(VAR_DIR / "media"))
STORAGES = {
    "default": {
        "BACKEND": env_str("DJANGO_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- E-mail (report delivery) ----------------------------------------------------------
# With EMAIL_HOST set, mail goes to that SMTP server; without it (the embedded default)
# each message is written as a file under VAR_DIR/mail, so nothing leaves the machine.
EMAIL_HOST = env_str("EMAIL_HOST") or ""
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)  # STARTTLS, usually port 587
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)  # TLS from the start, usually 465
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both.")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)  # seconds per SMTP operation
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "reports@localhost"
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The domain of every delivery's Message-ID (<...@domain>); the sender's by default.
REPORTS_MESSAGE_ID_DOMAIN = (
    env_str("REPORTS_MESSAGE_ID_DOMAIN") or DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
)
# A failed send is tried again after REPORTS_DELIVERY_RETRY_SECONDS, doubling up to
# REPORTS_DELIVERY_RETRY_MAX_SECONDS, REPORTS_DELIVERY_MAX_ATTEMPTS times in all.
REPORTS_DELIVERY_MAX_ATTEMPTS = env_int("REPORTS_DELIVERY_MAX_ATTEMPTS", 8)
REPORTS_DELIVERY_RETRY_SECONDS = env_int("REPORTS_DELIVERY_RETRY_SECONDS", 60)
REPORTS_DELIVERY_RETRY_MAX_SECONDS = env_int("REPORTS_DELIVERY_RETRY_MAX_SECONDS", 3600)
# A schedule's run also makes the periods missed since its last run, at most this many.
REPORTS_CATCH_UP_PERIODS = env_int("REPORTS_CATCH_UP_PERIODS", 7)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "consortium.api.access.BearerKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["consortium.api.access.HasCapability"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "consortium.api.errors.handle",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["consortium.api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": env_str("API_RATE_LIMIT", "6000/min")},
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "consortium API",
    "DESCRIPTION": "The finance systems' interface to the consortium ledger.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["consortium.api.schema.canonical_paths"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "consortium.api.schema.path_id_limits",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CurrencyEnum": "consortium.api.write_serializers.CURRENCIES",
        "ReportKindEnum": "consortium.reports.document.KINDS",
        "ReportFormatEnum": "consortium.reports.document.FORMATS",
    },
}
# Request bodies above this are refused before parsing (413).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("API_MAX_BODY_BYTES", 256 * 1024)
# Per web process: rendered live-read answers kept by projection position, and rendered
# events kept by ledger position (consortium.api.rendered); 0 turns either off.
API_RENDER_CACHE_ENTRIES = env_int("API_RENDER_CACHE_ENTRIES", 1000)
API_EVENT_CACHE_EVENTS = env_int("API_EVENT_CACHE_EVENTS", 50_000)

# --- Speed mechanisms -----------------------------------------------------------------
# Names of speed mechanisms to turn off (``ledger.speed`` lists them; an unknown name
# stops start-up): for measuring what each one is worth, or ruling one out.
SPEED_OFF = env_list("CONSORTIUM_SPEED_OFF", [])

# --- Ledger ---------------------------------------------------------------------------
# The largest event (data plus metadata, canonically encoded) an append accepts.
LEDGER_MAX_EVENT_BYTES = env_int("LEDGER_MAX_EVENT_BYTES", 1024 * 1024)

# --- Security (production: DJANGO_DEBUG=false) -----------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# A trial on plain HTTP (deploy/README.md) says DJANGO_SECURE_SSL_REDIRECT=false: only then
# is the deploy check's warning about it (security.W008) silenced, and no other.
SILENCED_SYSTEM_CHECKS = (
    ["security.W008"]
    if env_str("DJANGO_SECURE_SSL_REDIRECT") is not None and not SECURE_SSL_REDIRECT
    else []
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
