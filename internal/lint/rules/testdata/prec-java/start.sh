#!/bin/bash

set -eu

mkdir -p /run/tracker /app/data/tracker/attachments

echo "==> Generating the configuration"
envsubst < /app/pkg/application.properties.template > /run/tracker/application.properties

if [[ -n "${CLOUDRON_OIDC_ISSUER:-}" ]]; then
    cat >> /run/tracker/application.properties <<EOT
spring.security.oauth2.client.provider.cloudron.issuer-uri=${CLOUDRON_OIDC_ISSUER}
spring.security.oauth2.client.registration.cloudron.client-id=${CLOUDRON_OIDC_CLIENT_ID}
spring.security.oauth2.client.registration.cloudron.client-secret=${CLOUDRON_OIDC_CLIENT_SECRET}
EOT
fi

chown -R cloudron:cloudron /app/data /run/tracker

exec /app/pkg/run-tracker.sh
