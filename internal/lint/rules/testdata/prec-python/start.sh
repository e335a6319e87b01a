#!/bin/bash

set -eu

mkdir -p /run/pywiki /app/data/media

if [[ ! -f /app/data/.secret_key ]]; then
    echo "==> Generating the secret key"
    openssl rand -base64 48 > /app/data/.secret_key
fi

chown -R cloudron:cloudron /app/data /run/pywiki

run_as() {
    /usr/local/bin/gosu cloudron:cloudron "$@"
}

echo "==> Migrating"
run_as pywiki migrate --noinput

# create the admin once the server answers, in the background; it ends by itself
if [[ ! -f /app/data/.admin_created ]]; then
    (
        for i in $(seq 1 30); do
            curl -sf http://localhost:8000/healthz && break
            sleep 2
        done
        run_as pywiki createadmin --username admin --email "${CLOUDRON_MAIL_FROM}" && touch /app/data/.admin_created
    ) &
fi

start() {
    case "${1:-web}" in
    web)
        echo "==> Starting supervisor"
        exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf --nodaemon -i PyWiki
        ;;
    worker)
        exec /usr/local/bin/gosu cloudron:cloudron pywiki worker
        ;;
    *)
        echo "unknown mode $1"
        exit 1
        ;;
    esac
}

start "${PYWIKI_MODE:-web}"
