"""Yinling settings: everything comes from the environment, defaults run the SQLite demo.

Every variable is listed in docs/configuration.md.
"""

import datetime
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from yinling.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# Development defaults are safe only on a developer's machine; `check --deploy` refuses them
# (yinling.E001 for SECRET_KEY, yinling.E002 for FIELD_ENCRYPTION_KEY).
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnop"
DEV_FIELD_KEY = "eWlubGluZy1kZXYtb25seS1maWVsZC1rZXktMzJiISE="  # base64 of 32 bytes

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)
# Key for ID numbers and phones at rest (AES-256-GCM) and their keyed lookup hash.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", DEV_FIELD_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # /api/docs from django-ninja's own static files, not a CDN (the CSP allows only 'self')
    "core",
    "regions",
    "accounts",
    "audit",
    "elders",
    "jobs",
    "catalogue",
    "merchants",
    "providers",
    "needs",
    "assessments",
    "orders",
    "settlements",
    "timebank",
    "pairing",
    "alerts",
    "visits",
    "routing",
    "devdata",
]

MIDDLEWARE = [
    "core.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the language is known, before CSRF reads the form: NUL, lone surrogates, bodies
    # too big or unparsable get 400/413 in the user's language (core/middleware.py).
    "core.middleware.RequestGuardMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "yinling.urls"
WSGI_APPLICATION = "yinling.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "core.context_processors.navigation",
            ],
            "builtins": ["core.templatetags.yinling"],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation pays off for long analytical queries, not for a list page: it added
    # ~60 ms to a city-wide count over 2,000,000 elders (docs/performance.md).
    # cursor_tuple_fraction=1: a server-side cursor (.iterator(), used by exports) is planned
    # for reading every row, like a plain query; by default PostgreSQL plans it for the first
    # 10 %, and an export of one street walked the primary key through all 2,000,000 elders
    # (20,000 rows: 1.4 s in the cursor against 0.02 s as a plain query).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off -c cursor_tuple_fraction=1"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the task worker and the web server use the file at the same time.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Session timeout: an idle session ends after SESSION_IDLE_MINUTES (shared office computers).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30, minimum=1) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Failed-login throttling within LOGIN_LOCK_MINUTES: failures in a row for one user name from
# one address, and failures from one address across all names (accounts.services.login_retry_at).
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 30, minimum=1)
LOGIN_LOCK_MINUTES = env_int("LOGIN_LOCK_MINUTES", 15, minimum=1)
# Login attempts (names and addresses) are kept this long for the audit, then pruned.
LOGIN_ATTEMPT_DAYS = env_int("LOGIN_ATTEMPT_DAYS", 90, minimum=1)
# Proxies in front that append to X-Forwarded-For; 0 trusts only REMOTE_ADDR (docs/deploy.md).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
API_TOKEN_HOURS = env_int("API_TOKEN_HOURS", 12, minimum=1)
# Searches of the register per user (page and API): guessing the four hidden digits of a phone
# takes 10,000 searches, i.e. days at these rates (issue 8). Over the limit: 429.
SEARCH_MAX_PER_MINUTE = env_int("SEARCH_MAX_PER_MINUTE", 30, minimum=1)
SEARCH_MAX_PER_HOUR = env_int("SEARCH_MAX_PER_HOUR", 300, minimum=1)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# Largest import workbook accepted (checked by the import page and API): 64 MB by default.
IMPORT_MAX_BYTES = env_int("UPLOAD_MAX_MB", 64, minimum=1) * 1024 * 1024
# What a workbook may expand to before it is read (elders.workbook_guard; docs/import-export.md).
# The template has 31 columns; 64 leaves room for the extra columns real sheets carry. The
# reader holds the sheet as one rectangle, ~100 bytes a cell holding a short text: 3,500,000
# cells (100,000 rows of the template's columns and a few more) stay inside the reader's
# IMPORT_READER_MEMORY_MB. An xlsx inflates about 8× (the 100,000-row template: 8 MB, 68 MB).
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 200_000, minimum=100)
IMPORT_MAX_COLUMNS = env_int("IMPORT_MAX_COLUMNS", 64, minimum=31)
IMPORT_MAX_CELLS = env_int("IMPORT_MAX_CELLS", 3_500_000, minimum=10_000)
IMPORT_MAX_SHARED_STRINGS_MB = env_int("IMPORT_MAX_SHARED_STRINGS_MB", 100, minimum=1)
IMPORT_MAX_UNCOMPRESSED_MB = env_int("IMPORT_MAX_UNCOMPRESSED_MB", 4 * (IMPORT_MAX_BYTES >> 20), minimum=16)
IMPORT_READER_MEMORY_MB = env_int("IMPORT_READER_MEMORY_MB", 512, minimum=128)
# A running job whose worker has not been heard from for this long is marked failed (jobs.services).
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 300, minimum=30)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Retention of job files (uploaded sheets, error workbooks, exports): they hold personal data.
# Deleted by the scheduled task jobs.services.job_files_prune (docs/deploy.md); exports with
# full ID numbers and phones sooner.
JOB_FILE_RETENTION_DAYS = env_int("JOB_FILE_RETENTION_DAYS", 7, minimum=1)
FULL_NUMBER_EXPORT_RETENTION_HOURS = env_int("FULL_NUMBER_EXPORT_RETENTION_HOURS", 24, minimum=1)
# A request body other than uploaded files (JSON, form fields) above this is refused with 413.
# Django's default, stated: the largest real form or JSON body is a few KB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# One task layer: django-tasks. The database backend by default; TASK_BACKEND=immediate runs
# tasks in the caller (tests), and a Redis-backed backend is documented in docs/tasks.md.
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
_task_backend = env_str("TASK_BACKEND", "database")
if _task_backend not in _TASK_BACKENDS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"TASK_BACKEND must be one of {sorted(_TASK_BACKENDS)}")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[_task_backend], "QUEUES": ["default"]}}

# The registry: the age from which a person is registered (policies may lower or raise it),
# and the age of 高龄.
REGISTRY_MIN_AGE = env_int("REGISTRY_MIN_AGE", 60, minimum=0)
VERY_OLD_AGE = env_int("VERY_OLD_AGE", 80, minimum=1)
# Categories switched off for this deployment (comma-separated codes, see docs/elders.md).
CATEGORIES_DISABLED = env_list("CATEGORIES_DISABLED", [])
# Ability assessment (docs/assessments.md): months to the next reassessment — the usual
# interval, and the sooner one when the level changed or is one of ASSESSMENT_SOONER_LEVELS;
# how many days ahead the due list looks.
ASSESSMENT_INTERVAL_MONTHS = env_int("ASSESSMENT_INTERVAL_MONTHS", 12, minimum=1)
ASSESSMENT_SOONER_MONTHS = env_int("ASSESSMENT_SOONER_MONTHS", 6, minimum=1)
ASSESSMENT_SOONER_LEVELS = env_list("ASSESSMENT_SOONER_LEVELS", ["severe", "complete"])
ASSESSMENT_DUE_AHEAD_DAYS = env_int("ASSESSMENT_DUE_AHEAD_DAYS", 30, minimum=0)

# The 15-minute service circle (一刻钟为老服务圈, docs/merchants.md): a merchant is in an elder's
# circle when straight-line distance × detour factor ÷ walking speed ≤ the minutes.
CIRCLE_MINUTES = env_int("CIRCLE_MINUTES", 15, minimum=1)
CIRCLE_DETOUR_FACTOR = float(env_str("CIRCLE_DETOUR_FACTOR", "1.3"))
ELDER_WALK_METRES_PER_MINUTE = float(env_str("ELDER_WALK_METRES_PER_MINUTE", "50"))
if not (1.0 <= CIRCLE_DETOUR_FACTOR <= 3.0 and 10 <= ELDER_WALK_METRES_PER_MINUTE <= 150):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("CIRCLE_DETOUR_FACTOR must be 1–3 and ELDER_WALK_METRES_PER_MINUTE 10–150")

# Day routes (docs/routing.md). TRAVEL: "straight_line" (the default, no map service needed:
# great-circle distance × DETOUR at each means of travel's speed) or the URL of an OSRM server
# the deployment runs itself (e.g. "http://127.0.0.1:5000"; OSRM_PROFILES names its profile per
# means of travel). DETOUR: streets are not straight (1.3 is usual for a city grid). Speeds in
# km/h, door to door: an elder's carer on foot 4.5, on an e-bike 15, by car in town 25.
ROUTING = {
    "TRAVEL": env_str("ROUTING_TRAVEL", "straight_line"),
    "DETOUR": float(env_str("ROUTING_DETOUR", "1.3")),
    "SPEED_KMH": {
        "foot": float(env_str("ROUTING_SPEED_FOOT_KMH", "4.5")),
        "ebike": float(env_str("ROUTING_SPEED_EBIKE_KMH", "15")),
        "car": float(env_str("ROUTING_SPEED_CAR_KMH", "25")),
    },
    "OSRM_PROFILES": {"foot": "foot", "ebike": "bike", "car": "car"},
    "OSRM_TIMEOUT_SECONDS": float(env_str("ROUTING_OSRM_TIMEOUT_SECONDS", "30")),
    # --- plans in the app (routing/conf.py has every key's default and meaning; docs/routing.md
    # "Plans in the app"). The page waits for the solver: a station's day solves in a few seconds.
    "PLAN_SECONDS": env_int("ROUTING_PLAN_SECONDS", 5, minimum=1),
    # Continuity: the cost, in seconds of travel, of giving a visit to someone other than the
    # caregiver the elder knows (0: continuity ignored).
    "CONTINUITY_SECONDS": env_int("ROUTING_CONTINUITY_SECONDS", 900, minimum=0),
    # Meal rounds: the lunch and dinner delivery windows, the meals a courier carries per round.
    "LUNCH": tuple(env_list("ROUTING_LUNCH", ["10:30", "12:30"])),
    "DINNER": tuple(env_list("ROUTING_DINNER", ["16:30", "18:30"])),
    "MEAL_CAPACITY": env_int("ROUTING_MEAL_CAPACITY", 20, minimum=1),
    # Grid visits: the grid worker's shift and the minutes a due visit takes.
    "GRID_SHIFT": tuple(env_list("ROUTING_GRID_SHIFT", ["08:30", "17:30"])),
    "GRID_VISIT_MINUTES": env_int("ROUTING_GRID_VISIT_MINUTES", 20, minimum=1),
}
if not (1.0 <= ROUTING["DETOUR"] <= 3.0 and all(0.5 <= v <= 150 for v in ROUTING["SPEED_KMH"].values())):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("ROUTING_DETOUR must be 1–3 and every ROUTING_SPEED_*_KMH 0.5–150")
if ROUTING["TRAVEL"] != "straight_line" and not ROUTING["TRAVEL"].startswith(("http://", "https://")):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("ROUTING_TRAVEL must be straight_line or an OSRM server's http(s):// URL")
for _name in ("LUNCH", "DINNER", "GRID_SHIFT"):
    try:
        _from, _to = (datetime.time.fromisoformat(t) for t in ROUTING[_name])
        if _from >= _to:
            raise ValueError
    except ValueError:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"ROUTING_{_name} must be two times HH:MM,HH:MM, the first earlier, not {','.join(ROUTING[_name])!r}"
        ) from None

# Security: production settings (DEBUG off) turn on every check --deploy asks for.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # Django's default; htmx sends the token from hx-headers on <body>
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Everything is served from this site (htmx, CSS, Swagger UI are vendored), so 'self' is the
# whole policy: no inline script or style attribute, no eval (templates use neither), no
# framing. data: images only for the SVG icons Swagger UI draws. core/middleware.py sets it.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Off only for `make run`, which serves plain HTTP on the loopback address (docs/deploy.md).
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"quiet_periodic_ticks": {"()": "core.logfilters.QuietPeriodicTicks"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    # The task worker's line for every start and end of the scheduler's tick, not shown.
    "loggers": {"django_tasks": {"filters": ["quiet_periodic_ticks"]}},
}

# Providers (docs/providers.md): certificates expiring within this many days are listed and
# reminded of; where notices go (core/notify.py: a dotted path to a channel class).
CERTIFICATE_EXPIRY_DAYS = env_int("CERTIFICATE_EXPIRY_DAYS", 60, minimum=1)
NOTIFY_CHANNEL = env_str("NOTIFY_CHANNEL", "core.notify.LogChannel")
# The SMS gateway channel (core.notify.SmsGatewayChannel, NOTIFY_CHANNEL set to it): where it
# posts, its key, and how long a notice may wait for the gateway (an alert's step waits for it).
NOTIFY_SMS_URL = env_str("NOTIFY_SMS_URL", "")
NOTIFY_SMS_KEY = env_str("NOTIFY_SMS_KEY", "")
NOTIFY_SMS_TIMEOUT = env_int("NOTIFY_SMS_TIMEOUT", 3, minimum=1)

# Recurring plans (docs/orders-plans.md): the daily generator creates each plan's orders this
# many days ahead.
ORDERS_PLAN_DAYS_AHEAD = env_int("ORDERS_PLAN_DAYS_AHEAD", 14, minimum=1)
# Evaluation and supervision of orders (docs/orders-quality.md): a rating of 2 or less, or a
# failed call-back, opens a follow-up due this many working days later (China's calendar);
# each month this percentage of delivered government-purchased orders is called back (drawn
# daily, reproducibly per order), plus every order rated 2 or less; the daily draw looks back
# this many days of check-outs and ratings.
ORDERS_FOLLOW_UP_WORKING_DAYS = env_int("ORDERS_FOLLOW_UP_WORKING_DAYS", 3, minimum=1)
ORDERS_CALLBACK_PERCENT = env_int("ORDERS_CALLBACK_PERCENT", 10, minimum=0)
ORDERS_CALLBACK_LOOKBACK_DAYS = env_int("ORDERS_CALLBACK_LOOKBACK_DAYS", 7, minimum=1)
# A provider's monthly scorecard: the weights of on-time %, average rating and call-back pass
# rate in its score (0–100), the least score for 5A, 4A, 3A and 2A (below: 1A), and the fewest
# delivered orders in the month for a suggestion at all.
ORDERS_SCORECARD_WEIGHTS = env_list("ORDERS_SCORECARD_WEIGHTS", ["40", "30", "30"])
ORDERS_SCORECARD_STARS = env_list("ORDERS_SCORECARD_STARS", ["90", "80", "70", "60"])
ORDERS_SCORECARD_MIN_DELIVERED = env_int("ORDERS_SCORECARD_MIN_DELIVERED", 20, minimum=1)
if not all(v.isdigit() for v in ORDERS_SCORECARD_WEIGHTS + ORDERS_SCORECARD_STARS):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("ORDERS_SCORECARD_WEIGHTS and ORDERS_SCORECARD_STARS are whole numbers, comma-separated")
ORDERS_SCORECARD_WEIGHTS = [int(v) for v in ORDERS_SCORECARD_WEIGHTS]
ORDERS_SCORECARD_STARS = [int(v) for v in ORDERS_SCORECARD_STARS]
if (
    ORDERS_CALLBACK_PERCENT > 100
    or len(ORDERS_SCORECARD_WEIGHTS) != 3
    or min(ORDERS_SCORECARD_WEIGHTS) < 0
    or sum(ORDERS_SCORECARD_WEIGHTS) == 0
    or len(ORDERS_SCORECARD_STARS) != 4
    or ORDERS_SCORECARD_STARS != sorted(ORDERS_SCORECARD_STARS, reverse=True)
    or not all(0 <= s <= 100 for s in ORDERS_SCORECARD_STARS)
):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "ORDERS_CALLBACK_PERCENT must be 0–100, ORDERS_SCORECARD_WEIGHTS three whole numbers ≥ 0 (not all 0), "
        "ORDERS_SCORECARD_STARS four scores 0–100, highest first"
    )
# Visit verification, EVV (docs/orders-visits.md): a check-in later than the window's start by
# more than the grace is late; an accepted visit with no check-in this long after its start is a
# no-show; a check-in earlier than EVV_EARLY_MINUTES before the start is refused (a stray check-in
# instead). The place must lie within the geofence around the elder's home, reported with an
# accuracy no worse than EVV_MIN_ACCURACY_METRES. A visit shorter than EVV_SHORT_PERCENT of the
# planned window is short, longer than EVV_OVER_RUN_PERCENT over-runs. An offline record keeps the
# phone's own time when its clock is within EVV_MAX_CLOCK_SKEW_MINUTES of the server's and the
# record is at most EVV_OFFLINE_MAX_HOURS old.
EVV_LATE_GRACE_MINUTES = env_int("EVV_LATE_GRACE_MINUTES", 15, minimum=0)
EVV_NO_SHOW_MINUTES = env_int("EVV_NO_SHOW_MINUTES", 30, minimum=1)
EVV_EARLY_MINUTES = env_int("EVV_EARLY_MINUTES", 60, minimum=0)
EVV_GEOFENCE_METRES = env_int("EVV_GEOFENCE_METRES", 200, minimum=10)
EVV_MIN_ACCURACY_METRES = env_int("EVV_MIN_ACCURACY_METRES", 100, minimum=5)
EVV_SHORT_PERCENT = env_int("EVV_SHORT_PERCENT", 80, minimum=1)
EVV_OVER_RUN_PERCENT = env_int("EVV_OVER_RUN_PERCENT", 150, minimum=101)
EVV_MAX_CLOCK_SKEW_MINUTES = env_int("EVV_MAX_CLOCK_SKEW_MINUTES", 10, minimum=1)
EVV_OFFLINE_MAX_HOURS = env_int("EVV_OFFLINE_MAX_HOURS", 72, minimum=1)
if EVV_SHORT_PERCENT >= 100:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("EVV_SHORT_PERCENT must be below 100 (EVV_OVER_RUN_PERCENT is above it)")
# Dispatch (派单, docs/orders-dispatch.md): the points each criterion gives a candidate (whole
# numbers; a candidate's score is their sum, out of 100 with these defaults), how far and how
# busy a candidate may be before those criteria give nothing, and the score automatic dispatch
# (recurring plans) needs. DISPATCH_WEIGHTS overrides some points: "distance=40,workload=5".
DISPATCH_WEIGHTS = {
    "distance": 30,  # full at 0 m, falling evenly to 0 at DISPATCH_DISTANCE_MAX_M
    "workload": 15,  # full with no order this week, falling evenly to 0 at DISPATCH_WEEK_MAX_ORDERS
    "continuity": 20,  # the last worker who served this elder
    "continuity_earlier": 10,  # served this elder before, not the last time
    "preferred": 15,  # the worker the elder asked for (or the recurring plan names)
    "sex": 10,  # the sex the elder asked for
    "language": 10,  # speaks a language or dialect the elder asked for
}
for _pair in env_list("DISPATCH_WEIGHTS", []):
    _key, _sep, _value = _pair.partition("=")
    if _key.strip() not in DISPATCH_WEIGHTS or not _value.strip().isdigit() or int(_value) > 1000:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"DISPATCH_WEIGHTS: {_pair!r} should be name=points (0–1000), names: {', '.join(DISPATCH_WEIGHTS)}"
        )
    DISPATCH_WEIGHTS[_key.strip()] = int(_value)
DISPATCH_DISTANCE_MAX_M = env_int("DISPATCH_DISTANCE_MAX_M", 5000, minimum=1)
DISPATCH_WEEK_MAX_ORDERS = env_int("DISPATCH_WEEK_MAX_ORDERS", 30, minimum=1)
DISPATCH_AUTO_MIN_SCORE = env_int("DISPATCH_AUTO_MIN_SCORE", 40, minimum=0)
# Payment modes whose orders volunteers of the elder's community are offered for (besides
# every order of a time-bank item).
DISPATCH_VOLUNTEER_MODES = env_list("DISPATCH_VOLUNTEER_MODES", ["time_coin", "free"])
# Settlements (docs/settlements.md): what part of a covered unit's price a low-cost (低偿)
# entitlement package pays (percent, floor; the elder pays the rest), and which government pays
# for government-purchased (政府购买) visits: the elder's district, city or street.
# The time bank's ledger (docs/timebank-ledger.md): a volunteer's order earns its actual minutes
# (check-in to check-out), at most this percent of its scheduled length.
TIMEBANK_SERVED_CAP_PERCENT = env_int("TIMEBANK_SERVED_CAP_PERCENT", 100, minimum=1)
SETTLEMENTS_LOW_COST_PERCENT = env_int("SETTLEMENTS_LOW_COST_PERCENT", 50, minimum=0)
SETTLEMENTS_GOVERNMENT_LEVEL = env_str("SETTLEMENTS_GOVERNMENT_LEVEL", "district")
if SETTLEMENTS_LOW_COST_PERCENT > 100 or SETTLEMENTS_GOVERNMENT_LEVEL not in ("city", "district", "street"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "SETTLEMENTS_LOW_COST_PERCENT must be 0–100; SETTLEMENTS_GOVERNMENT_LEVEL city, district or street"
    )
