#!/bin/bash
set -eu

# OctoPrint's basedir is /app/data: config.yaml, users.yaml, uploads/,
# printerProfiles/, data/ (plugin data, backups), timelapse/, watched/.
# Logs and compiled web assets are in /run (see configure.py).
mkdir -p /run/octoprint/logs /run/octoprint/generated /run/octoprint/home /run/octoprint/tmp
chown -R cloudron:cloudron /app/data /run/octoprint

as_cloudron() {
    gosu cloudron:cloudron env HOME=/run/octoprint/home TMPDIR=/run/octoprint/tmp "$@"
}
octoprint() {
    as_cloudron /app/code/bin/octoprint --basedir /app/data "$@"
}

# config.yaml: the Cloudron-specific keys (port, reverse proxy, plugins
# that need the internet) on every start; the rest is the admin's.
as_cloudron /app/code/bin/python /app/pkg/configure.py

# First start: the admin account with a generated password, kept in
# /app/data/admin-password. With it (and the answers in config.yaml) the
# first-run wizard has nothing left to ask, and access control is on.
if [[ ! -f /app/data/.initialized ]]; then
    echo "==> First start: creating the admin account"
    if [[ ! -s /app/data/admin-password ]]; then
        openssl rand -base64 18 | tr -d '/+=' > /app/data/admin-password
    fi
    chown cloudron:cloudron /app/data/admin-password
    chmod 0600 /app/data/admin-password
    if ! grep -q '^admin:' /app/data/users.yaml 2>/dev/null; then
        octoprint user add admin --admin --password "$(cat /app/data/admin-password)"
    fi
    # File Check's wizard asks for a scan of existing files; a new install
    # has none, which is what the plugin itself records when it looks first.
    if [[ ! -f /app/data/data/file_check/last_check_info.json ]]; then
        mkdir -p /app/data/data/file_check
        echo "{\"version\": 1, \"timestamp\": $(date +%s)}" > /app/data/data/file_check/last_check_info.json
        chown -R cloudron:cloudron /app/data/data
    fi
    touch /app/data/.initialized
    chown cloudron:cloudron /app/data/.initialized
fi

echo "==> Starting OctoPrint on port 5000"
exec gosu cloudron:cloudron env HOME=/run/octoprint/home TMPDIR=/run/octoprint/tmp NO_COLOR=1 \
    /app/code/bin/octoprint --basedir /app/data serve --host 0.0.0.0 --port 5000
