#!/bin/bash

set -eu

mkdir -p /run/gallery /run/php/sessions /app/data/albums

cat > /run/gallery/config.php <<PHP
<?php
define('DB_HOST', '${CLOUDRON_MYSQL_HOST}');
define('DB_NAME', '${CLOUDRON_MYSQL_DATABASE}');
define('DB_USER', '${CLOUDRON_MYSQL_USERNAME}');
define('DB_PASSWORD', '${CLOUDRON_MYSQL_PASSWORD}');
define('SITE_URL', '${CLOUDRON_APP_ORIGIN}');
define('MAIL_HOST', '${CLOUDRON_MAIL_SMTP_SERVER}');
define('MAIL_PORT', ${CLOUDRON_MAIL_SMTP_PORT});
define('MAIL_USER', '${CLOUDRON_MAIL_SMTP_USERNAME}');
define('MAIL_PASSWORD', '${CLOUDRON_MAIL_SMTP_PASSWORD}');
define('MAIL_FROM', '${CLOUDRON_MAIL_FROM}');
define('OIDC_ISSUER', '${CLOUDRON_OIDC_ISSUER}');
define('OIDC_CLIENT_ID', '${CLOUDRON_OIDC_CLIENT_ID}');
define('OIDC_CLIENT_SECRET', '${CLOUDRON_OIDC_CLIENT_SECRET}');
PHP

chown -R www-data:www-data /app/data /run/gallery /run/php

echo "==> Updating the schema"
gosu www-data:www-data php /app/code/bin/upgrade.php

echo "==> Starting apache"
APACHE_CONFDIR="" source /etc/apache2/envvars
rm -f "${APACHE_PID_FILE}"
exec /usr/sbin/apache2 -DFOREGROUND
