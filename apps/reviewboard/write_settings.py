"""Write Review Board's settings_local.py from the platform's variables.

start.sh runs this on every start: the database credentials and the domain
may change on any restart (a move changes the domain), so nothing of them is
kept in /app/data. The site's conf/settings_local.py is a link to the file
written here.
"""
import os
import sys

env = os.environ
domain = env["CLOUDRON_APP_DOMAIN"]
origin = env["CLOUDRON_APP_ORIGIN"]

with open("/app/data/secret_key") as f:
    secret_key = f.read().strip()

databases = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": env["CLOUDRON_POSTGRESQL_DATABASE"],
        "USER": env["CLOUDRON_POSTGRESQL_USERNAME"],
        "PASSWORD": env["CLOUDRON_POSTGRESQL_PASSWORD"],
        "HOST": env["CLOUDRON_POSTGRESQL_HOST"],
        "PORT": env["CLOUDRON_POSTGRESQL_PORT"],
    },
}

# No memcached: Django's file cache in /run, shared by the gunicorn workers
# of this one container and dropped on restart.
caches = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": "/run/reviewboard/cache",
    },
}

settings = {
    "DATABASES": databases,
    "CACHES": caches,
    "SECRET_KEY": secret_key,
    "SITE_ROOT": "/",
    "DEBUG": False,
    # The app's domain, and the container itself for checks from inside.
    "ALLOWED_HOSTS": [domain, "localhost", "127.0.0.1"],
    "CSRF_TRUSTED_ORIGINS": [origin],
    # The platform's reverse proxy terminates TLS and says so in this header.
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    # /health/ answers requests from 127.0.0.1 only: nginx proxies it.
    "HEALTHCHECK_IPS": [],
}

out = sys.argv[1]
tmp = out + ".tmp"
with open(tmp, "w") as f:
    f.write("# Written by /app/pkg/write_settings.py on every start from the\n")
    f.write("# platform's variables: do not edit, changes are lost on restart.\n")
    for name, value in settings.items():
        f.write("%s = %r\n" % (name, value))
os.chmod(tmp, 0o600)
os.replace(tmp, out)
