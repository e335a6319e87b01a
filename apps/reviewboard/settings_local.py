# Review Board's site settings (the site's conf/settings_local.py links here).
# They read the platform's variables each time Review Board starts, so new
# database credentials or a new domain take effect on the next restart.
import os

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["CLOUDRON_POSTGRESQL_DATABASE"],
        "USER": os.environ["CLOUDRON_POSTGRESQL_USERNAME"],
        "PASSWORD": os.environ["CLOUDRON_POSTGRESQL_PASSWORD"],
        "HOST": os.environ["CLOUDRON_POSTGRESQL_HOST"],
        "PORT": os.environ["CLOUDRON_POSTGRESQL_PORT"],
    },
}

with open("/app/data/secret_key") as f:
    SECRET_KEY = f.read().strip()

# No memcached: a file cache in /run, private to this container.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": "/run/reviewboard/cache",
    },
}

SITE_ROOT = "/"
FORCE_SCRIPT_NAME = ""
DEBUG = False
ALLOWED_HOSTS = [os.environ["CLOUDRON_APP_DOMAIN"], "localhost", "127.0.0.1"]
CSRF_TRUSTED_ORIGINS = [os.environ["CLOUDRON_APP_ORIGIN"]]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
