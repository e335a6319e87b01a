#!/bin/bash
set -eu

CODE=/app/code
mkdir -p /run/app /run/nginx/log /tmp/cache /app/data/uploads /app/code/storage/cache
mkdir -p "${CODE}/cache" # want "SH007 mkdir writes /app/code/cache, but the filesystem is read-only at runtime"
echo "{}" > /app/code/config.json
echo "started" >> /var/log/nginx/start.log
sed -i "s/PORT/8000/" /etc/nginx/sites-enabled/app.conf # want "SH007 sed writes /etc/nginx/sites-enabled/app.conf"
sed -e "s/x/y/" /app/pkg/template > /run/app/out # want "RT006 start.sh uses /app/pkg/template, but the image never receives it"
cp /app/pkg/env.defaults /app/code/.env # want "SH007 cp writes /app/code/.env" "RT006 .*/app/pkg/env.defaults"
ln -sf /app/data/config.php /app/code/config.php # want "SH007 ln writes /app/code/config.php"
chown -R cloudron:cloudron /app/data /run/app /app/code/storage
chown cloudron /app/code/bin # want "SH007 chown writes /app/code/bin"
echo "origin=${CLOUDRON_APP_ORIGIN}" | tee /etc/app.conf >/dev/null # want "SH007 tee writes /etc/app.conf"
tar -xzf /app/pkg/assets.tgz -C /usr/share/app # want "SH007 tar writes /usr/share/app" "RT006 .*/app/pkg/assets.tgz"
touch "$HOME/.bootstrapped"
rm -f /run/app/*.pid /tmp/*.lock
curl -fsS -o /opt/app/geo.db https://example.com/geo-2024.db # want "SH007 curl writes /opt/app/geo.db"
exec gosu cloudron:cloudron /app/code/server 2>&1
