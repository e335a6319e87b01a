#!/bin/bash
set -eu

mkdir -p /run/app /run/cloudron/app /app/data/uploads
source /app/pkg/env.sh
if [[ ! -f /app/data/config.yml ]]; then
    cp /app/pkg/config.yml.default /app/data/config.yml
fi
cp -n /app/pkg/theme.css /app/data/theme.css # want "RT006 start.sh uses /app/pkg/theme.css, but the image never receives it"
if [[ -f /app/pkg/extra.conf ]]; then
    cp /app/pkg/extra.conf /run/app/extra.conf
fi
export MAIL_NAME="${CLOUDRON_MAIL_FROM_DISPLAY_NAME}" # want "RT008 .CLOUDRON_MAIL_FROM_DISPLAY_NAME is read under set -u, but it is set only with the sendmail addon's option"
export MAIL_FROM="${CLOUDRON_MAIL_FROM}" MAIL_NAME_OR_DEFAULT="${CLOUDRON_MAIL_FROM_DISPLAY_NAME:-Fixture}" # want "XF006 CLOUDRON_MAIL_FROM_DISPLAY_NAME is set only"
API_TOKEN="$(cat /run/cloudron/api-token)" # want "RT010 /run/cloudron/api-token: the platform creates nothing below /run/cloudron"
echo "${API_TOKEN}" > /run/cloudron/app/token
cat /run/cloudron/app/token > /dev/null
gosu cloudron:cloudron bash -c 'echo ready > /run/app/ready'
bash -c 'date > /etc/started' # want "RT001 the redirection > /etc/started writes /etc/started \\(in the -c script of bash\\)"
chown -R cloudron:cloudron /app/data /run/app
exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf --nodaemon
