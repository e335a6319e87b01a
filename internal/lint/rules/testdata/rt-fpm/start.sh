#!/bin/bash
set -eu

mkdir -p /run/php
chown -R www-data:www-data /app/data /run/php
exec /usr/sbin/php-fpm8.1 --nodaemonize
