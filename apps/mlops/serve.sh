#!/bin/bash
# The last process of the container: runs the command it is given (the
# MLflow server) in its own session and passes SIGTERM on to it. MLflow's
# command forwards it to uvicorn, which stops its workers; should they not
# be gone within 8 s (Cloudron kills the app after 10), the session is
# ended, so that a stop never becomes a SIGKILL of the whole app.
set -u
setsid "$@" &
child=$!
stop() {
    trap '' TERM INT
    kill -TERM "${child}" 2>/dev/null
    (
        sleep 8
        echo "==> the server did not stop within 8 s of SIGTERM: ending it" >&2
        kill -KILL -- "-${child}" 2>/dev/null
    ) &
    wait "${child}"
    exit 0
}
trap stop TERM INT
wait "${child}"
