#!/bin/bash
set -eu

mkdir -p /run/app /run/php
chown -R www-data:www-data /app/data /run/app
/usr/sbin/php-fpm8.1 --daemonize
exec nginx -g "daemon off;" # want "RT002 nginx runs on the stock configuration"
