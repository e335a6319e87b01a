#!/bin/bash
set -eu

# A Review Board management command on the site, as the app user: the
# scheduler's tasks (search index, expired sessions) run it. A task runs in
# a container of its own that shares /run and /app/data with the app, so
# the settings start.sh wrote are there; they are written again if not.
if [[ ! -f /run/reviewboard/settings_local.py ]]; then
    mkdir -p /run/reviewboard/cache /run/reviewboard/home
    chown -R cloudron:cloudron /run/reviewboard
    gosu cloudron:cloudron /app/code/venv/bin/python /app/pkg/write_settings.py /run/reviewboard/settings_local.py
fi
exec gosu cloudron:cloudron env HOME=/run/reviewboard/home /app/code/venv/bin/rb-site manage /app/data/site "$@"
