#!/bin/bash
set -eu

mkdir -p /app/data/config /run/app
cp -r /app/pkg/defaults/. /app/data/config/ # want "SH011 cp into /app/data/config/ on every start overwrites what users changed"
cp -rn /app/pkg/themes/. /app/data/themes/
cp /app/data/config/app.ini /app/data/config/app.ini.bak

if [[ ! -f /app/data/.initialized ]]; then
    echo "==> First run"
    echo "DB_PASSWORD=${CLOUDRON_MYSQL_PASSWORD}" > /app/data/config/db.env # want "SH008 \\$CLOUDRON_MYSQL_PASSWORD is written into /app/data/config/db.env only on first run"
    sed -i "s|@ORIGIN@|${CLOUDRON_APP_ORIGIN}|" /app/data/config/app.ini # want "SH008 \\$CLOUDRON_APP_ORIGIN is written into /app/data/config/app.ini only on first run"
    openssl rand -hex 32 > /app/data/config/secret
    touch /app/data/.initialized
fi

[[ -f /app/data/config/extra.ini ]] || echo "host=${CLOUDRON_MYSQL_HOST}" > /app/data/config/extra.ini # want "SH008 \\$CLOUDRON_MYSQL_HOST is written into /app/data/config/extra.ini only on first run"

echo "DB_PASSWORD=${CLOUDRON_MYSQL_PASSWORD}" > /run/app/db.env
chown -R cloudron:cloudron /app/data /run/app
exec gosu cloudron:cloudron /app/code/server
