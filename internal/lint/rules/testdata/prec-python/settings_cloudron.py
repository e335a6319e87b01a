# PyWiki settings for Cloudron: everything comes from the environment.
import os

DATABASE_URL = os.environ['CLOUDRON_POSTGRESQL_URL']
REDIS_URL = 'redis://:%s@%s:%s/0' % (os.environ['CLOUDRON_REDIS_PASSWORD'], os.environ['CLOUDRON_REDIS_HOST'], os.environ['CLOUDRON_REDIS_PORT'])
BASE_URL = os.environ['CLOUDRON_APP_ORIGIN']

with open('/app/data/.secret_key') as f:
    SECRET_KEY = f.read().strip()

MEDIA_ROOT = '/app/data/media'

EMAIL_HOST = os.environ.get('CLOUDRON_MAIL_SMTP_SERVER', 'localhost')
EMAIL_PORT = int(os.environ.get('CLOUDRON_MAIL_SMTP_PORT', '25'))
EMAIL_HOST_USER = os.environ.get('CLOUDRON_MAIL_SMTP_USERNAME', '')
EMAIL_HOST_PASSWORD = os.environ.get('CLOUDRON_MAIL_SMTP_PASSWORD', '')
DEFAULT_FROM_EMAIL = os.environ.get('CLOUDRON_MAIL_FROM', 'wiki@localhost')

LDAP_ENABLED = bool(os.environ.get('CLOUDRON_LDAP_URL'))
LDAP_URL = os.environ.get('CLOUDRON_LDAP_URL', '')
LDAP_BIND_DN = os.environ.get('CLOUDRON_LDAP_BIND_DN', '')
LDAP_BIND_PASSWORD = os.environ.get('CLOUDRON_LDAP_BIND_PASSWORD', '')
LDAP_USER_BASE = os.environ.get('CLOUDRON_LDAP_USERS_BASE_DN', '')
LDAP_USER_FILTER = '(|(username=%(user)s)(mail=%(user)s))'
PASSWORD_RESET_TEMPLATE = 'pywiki/password_reset.html'
