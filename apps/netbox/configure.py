"""Writes NetBox's configuration from the platform's variables.

start.sh runs this on every start (the add-on credentials may change on any
restart): /run/netbox/conf/configuration.py and, with the ldap add-on,
ldap_config.py beside it; with the oidc add-on, the OpenID login. Every value is written with repr(), so no quoting
can break the generated Python. The secrets made on the first start are read
from /app/data.
"""

import os
import pathlib
import sys

env = os.environ
conf = pathlib.Path(sys.argv[1])
data = pathlib.Path('/app/data')


def secret(name):
    return (data / name).read_text().strip()


def redis(database):
    return {
        'HOST': env['CLOUDRON_REDIS_HOST'],
        'PORT': int(env.get('CLOUDRON_REDIS_PORT', '6379')),
        'USERNAME': '',
        'PASSWORD': env.get('CLOUDRON_REDIS_PASSWORD', ''),
        'DATABASE': database,
        'SSL': False,
    }


settings = {
    # The platform's reverse proxy decides which names reach the app.
    'ALLOWED_HOSTS': ['*'],
    'CSRF_TRUSTED_ORIGINS': [env['CLOUDRON_APP_ORIGIN']],
    'DATABASES': {
        'default': {
            'ENGINE': 'django.db.backends.postgresql',
            'NAME': env['CLOUDRON_POSTGRESQL_DATABASE'],
            'USER': env['CLOUDRON_POSTGRESQL_USERNAME'],
            'PASSWORD': env['CLOUDRON_POSTGRESQL_PASSWORD'],
            'HOST': env['CLOUDRON_POSTGRESQL_HOST'],
            'PORT': env['CLOUDRON_POSTGRESQL_PORT'],
            'CONN_MAX_AGE': 300,
        },
    },
    # Database 0: the background job queues (RQ); database 1: the cache.
    'REDIS': {'tasks': redis(0), 'caching': redis(1)},
    'SECRET_KEY': secret('secret_key'),
    'API_TOKEN_PEPPERS': {1: secret('api_token_pepper')},
    'MEDIA_ROOT': '/app/data/media',
    'SCRIPTS_ROOT': '/app/data/scripts',
    'REPORTS_ROOT': '/app/data/reports',
    'TIME_ZONE': 'UTC',
    'CENSUS_REPORTING_ENABLED': False,
    'LOGGING': {
        'version': 1,
        'disable_existing_loggers': False,
        'handlers': {'console': {'class': 'logging.StreamHandler'}},
        'loggers': {'netbox': {'handlers': ['console'], 'level': 'INFO'}},
    },
}

ldap = bool(env.get('CLOUDRON_LDAP_URL'))
oidc = bool(env.get('CLOUDRON_OIDC_ISSUER'))
backends = []
if ldap:
    # LDAP first, then the local accounts (the administrator made on the
    # first start). Members of the platform's admins group are superusers.
    backends.append('netbox.authentication.LDAPBackend')
if oidc:
    # "Cloudron" on the login page: the platform's OpenID provider
    # (social-auth's OpenID Connect backend, at /oauth/login/oidc/). A user
    # is found again by the provider's subject (social_django's link), so a
    # restored or moved app keeps its users.
    backends.append('social_core.backends.open_id_connect.OpenIdConnectAuth')
    settings['SOCIAL_AUTH_OIDC_OIDC_ENDPOINT'] = env['CLOUDRON_OIDC_ISSUER']
    settings['SOCIAL_AUTH_OIDC_KEY'] = env['CLOUDRON_OIDC_CLIENT_ID']
    settings['SOCIAL_AUTH_OIDC_SECRET'] = env['CLOUDRON_OIDC_CLIENT_SECRET']
    settings['SOCIAL_AUTH_REDIRECT_IS_HTTPS'] = True
    settings['SOCIAL_AUTH_BACKEND_ATTRS'] = {'oidc': (env.get('CLOUDRON_OIDC_PROVIDER_NAME', 'Cloudron'), None)}
if backends:
    # Every signed-in user may view everything.
    settings['REMOTE_AUTH_BACKEND'] = backends
    settings['EXEMPT_VIEW_PERMISSIONS'] = ['*']

conf.mkdir(parents=True, exist_ok=True)
with open(conf / 'configuration.py', 'w') as f:
    f.write('# Written by start.sh on every start from the platform variables: do not edit.\n')
    for key, value in settings.items():
        f.write(f'{key} = {value!r}\n')

ldap_config = conf / 'ldap_config.py'
if ldap:
    users = env['CLOUDRON_LDAP_USERS_BASE_DN']
    groups = env['CLOUDRON_LDAP_GROUPS_BASE_DN']
    with open(ldap_config, 'w') as f:
        f.write('# Written by start.sh on every start from the platform variables: do not edit.\n')
        f.write('import ldap\n')
        f.write('from django_auth_ldap.config import LDAPSearch, GroupOfNamesType\n')
        f.write(f'AUTH_LDAP_SERVER_URI = {env["CLOUDRON_LDAP_URL"]!r}\n')
        f.write(f'AUTH_LDAP_BIND_DN = {env["CLOUDRON_LDAP_BIND_DN"]!r}\n')
        f.write(f'AUTH_LDAP_BIND_PASSWORD = {env["CLOUDRON_LDAP_BIND_PASSWORD"]!r}\n')
        f.write('AUTH_LDAP_CONNECTION_OPTIONS = {ldap.OPT_REFERRALS: 0}\n')
        f.write(f'AUTH_LDAP_USER_SEARCH = LDAPSearch({users!r}, ldap.SCOPE_SUBTREE, '
                f'"(|(uid=%(user)s)(mail=%(user)s))")\n')
        f.write("AUTH_LDAP_USER_ATTR_MAP = {'username': 'uid', 'first_name': 'givenName', "
                "'last_name': 'sn', 'email': 'mail'}\n")
        f.write(f'AUTH_LDAP_GROUP_SEARCH = LDAPSearch({groups!r}, ldap.SCOPE_SUBTREE, "(objectClass=*)")\n')
        f.write('AUTH_LDAP_GROUP_TYPE = GroupOfNamesType()\n')
        f.write(f"AUTH_LDAP_USER_FLAGS_BY_GROUP = {{'is_superuser': {('cn=admins,' + groups)!r}}}\n")
        f.write('AUTH_LDAP_ALWAYS_UPDATE_USER = True\n')
        f.write('AUTH_LDAP_CACHE_TIMEOUT = 3600\n')
elif ldap_config.exists():
    ldap_config.unlink()
