#!/bin/bash
set -eu

mkdir -p /run/nginx /run/php/sessions /app/data/uploads
chown -R www-data:www-data /run/php /app/data

echo "==> Starting nginx and php-fpm"
exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf
