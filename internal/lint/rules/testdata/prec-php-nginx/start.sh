#!/bin/bash

set -eu

mkdir -p /run/phpnotes /run/php/sessions /run/nginx /app/data/storage/uploads /app/data/storage/cache

# the config is generated on every start from the platform's variables
sed -e "s,##DB_HOST##,${CLOUDRON_MYSQL_HOST}," \
    -e "s,##DB_PORT##,${CLOUDRON_MYSQL_PORT}," \
    -e "s,##DB_NAME##,${CLOUDRON_MYSQL_DATABASE}," \
    -e "s,##DB_USER##,${CLOUDRON_MYSQL_USERNAME}," \
    -e "s,##DB_PASSWORD##,${CLOUDRON_MYSQL_PASSWORD}," \
    -e "s,##APP_URL##,${CLOUDRON_APP_ORIGIN}," \
    /app/pkg/config.php.template > /run/phpnotes/config.php

if [[ ! -f /app/data/.app_key ]]; then
    echo "==> Generating the app key on first run"
    openssl rand -hex 32 > /app/data/.app_key
fi

if [[ -z "${CLOUDRON_LDAP_SERVER:-}" ]]; then
    echo "==> LDAP is off (installed without Cloudron user management)"
else
    echo "==> Configuring LDAP"
    cat >> /run/phpnotes/config.php <<PHP
\$config['ldap'] = [
    'host' => '${CLOUDRON_LDAP_SERVER}',
    'port' => ${CLOUDRON_LDAP_PORT},
    'base_dn' => '${CLOUDRON_LDAP_USERS_BASE_DN}',
    'bind_dn' => '${CLOUDRON_LDAP_BIND_DN}',
    'bind_password' => '${CLOUDRON_LDAP_BIND_PASSWORD}',
];
PHP
fi

cat >> /run/phpnotes/config.php <<PHP
\$config['mail'] = [
    'host' => '${CLOUDRON_MAIL_SMTP_SERVER}',
    'port' => ${CLOUDRON_MAIL_SMTP_PORT},
    'username' => '${CLOUDRON_MAIL_SMTP_USERNAME}',
    'password' => '${CLOUDRON_MAIL_SMTP_PASSWORD}',
    'from' => '${CLOUDRON_MAIL_FROM}',
    'from_name' => '${CLOUDRON_MAIL_FROM_DISPLAY_NAME:-PHP Notes}',
];
PHP

chown -R www-data:www-data /app/data /run/phpnotes /run/php

echo "==> Running migrations"
gosu www-data:www-data php /app/code/bin/console migrate --no-interaction

echo "==> Starting PHP Notes"
exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf --nodaemon -i PHPNotes
