#!/bin/bash
set -eu
chown -R cloudron:cloudron /app/data
if [[ "${APP_ROLE:-web}" == "worker" ]]; then # want "SH004 the start script can end without starting the app"
    exec gosu cloudron:cloudron /app/code/worker
elif [[ "${APP_ROLE:-web}" == "web" ]]; then
    exec gosu cloudron:cloudron /app/code/server
fi
