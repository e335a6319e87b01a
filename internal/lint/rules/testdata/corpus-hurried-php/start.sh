#!/bin/bash
set -e

if [[ ! -f /app/data/wp-config.php ]]; then
    cat > /app/data/wp-config.php <<EOF
<?php
define('DB_NAME', '${CLOUDRON_MYSQL_DATABASE}');
define('DB_USER', '${CLOUDRON_MYSQL_USERNAME}');
define('DB_PASSWORD', '${CLOUDRON_MYSQL_PASSWORD}');
define('SMTP_HOST', '${CLOUDRON_MAIL_SMTP_SERVER}');
EOF
fi

sed -i "s/Listen 80/Listen 8000/" /etc/apache2/ports.conf # want "SH007 sed writes /etc/apache2/ports.conf"
chown -R www-data:www-data /app/data
mkdir -p /run/apache2
source /etc/apache2/envvars
/usr/sbin/apache2 -DFOREGROUND # want "SH004 .*ends with /usr/sbin/apache2 without exec" "RT002 Apache runs with the stock ErrorLog"
