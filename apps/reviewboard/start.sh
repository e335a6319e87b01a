#!/bin/bash
set -eu

# Review Board's site lives in /app/data/site. Its settings_local.py is the
# package's, linked on every start, and reads the platform's variables (which
# may change on any restart) when Review Board starts; the site configuration
# kept in the database (login, mail, domain) is set from them on every start.

site=/app/data/site
rbsite() { gosu cloudron:cloudron /app/code/venv/bin/rb-site "$@"; }

mkdir -p /run/reviewboard/cache /run/nginx

if [[ ! -f /app/data/.initialized ]]; then
    echo "==> First run: creating the site, its secret and the admin account"
    openssl rand -hex 32 > /app/data/secret_key
    openssl rand -hex 12 > /app/data/admin_password
    chown -R cloudron:cloudron /app/data
    rbsite install --noinput --domain-name="${CLOUDRON_APP_DOMAIN}" --site-root=/ \
        --static-url=static/ --media-url=media/ \
        --db-type=postgresql --db-name="${CLOUDRON_POSTGRESQL_DATABASE}" --db-host="${CLOUDRON_POSTGRESQL_HOST}" \
        --db-user="${CLOUDRON_POSTGRESQL_USERNAME}" --db-pass="${CLOUDRON_POSTGRESQL_PASSWORD}" \
        --cache-type=file --cache-info=/run/reviewboard/cache \
        --web-server-type=apache --python-loader=wsgi \
        --admin-user=admin --admin-password="$(cat /app/data/admin_password)" --admin-email="admin@${CLOUDRON_APP_DOMAIN}" \
        "${site}"
    touch /app/data/.initialized
fi

ln -sf /app/pkg/settings_local.py "${site}/conf/settings_local.py"
chown -R cloudron:cloudron /app/data /run/reviewboard

# Migrations (and static files) for the installed version, on every start.
echo "==> Upgrading the site"
rbsite upgrade --noinput "${site}"

echo "==> Site configuration from the environment"
setconf() { rbsite manage "${site}" set-siteconfig -- --key="$1" --value="$2"; }
setconf site_domain_method https
setconf mail_host "${CLOUDRON_MAIL_SMTP_SERVER}"
setconf mail_port "${CLOUDRON_MAIL_SMTP_PORT}"
setconf mail_host_user "${CLOUDRON_MAIL_SMTP_USERNAME}"
setconf mail_host_password "${CLOUDRON_MAIL_SMTP_PASSWORD}"
setconf mail_use_tls false
setconf mail_default_from "${CLOUDRON_MAIL_FROM}"
if [[ -n "${CLOUDRON_LDAP_URL:-}" ]]; then
    setconf auth_backend ldap
    setconf auth_ldap_uri "${CLOUDRON_LDAP_URL:-}"
    setconf auth_ldap_base_dn "${CLOUDRON_LDAP_USERS_BASE_DN:-}"
    setconf auth_ldap_uid username
    setconf auth_ldap_uid_mask ""
    setconf auth_ldap_anon_bind_uid "${CLOUDRON_LDAP_BIND_DN:-}"
    setconf auth_ldap_anon_bind_passwd "${CLOUDRON_LDAP_BIND_PASSWORD:-}"
    setconf auth_ldap_email_attribute mail
    setconf auth_ldap_full_name_attribute displayname
fi
# The site's domain follows the app's location (moves change it).
rbsite manage "${site}" shell -- -c "from django.contrib.sites.models import Site; Site.objects.filter(pk=1).update(domain='${CLOUDRON_APP_DOMAIN}', name='${CLOUDRON_APP_DOMAIN}')"

echo "==> Starting nginx and gunicorn"
exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf --nodaemon -i reviewboard
