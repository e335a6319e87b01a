#!/bin/bash
set -eu
chown -R cloudron:cloudron /app/data
export DATABASE_URL="${CLOUDRON_POSTGRESQL_URL}"

# every branch is followed to its exec; the privilege drop is recognised
# through setpriv, runuser, chpst, su-exec and a wrapper script
case "${APP_MODE:-web}" in
setpriv)
    exec setpriv --reuid=cloudron --regid=cloudron --init-groups node /app/code/server.js
    ;;
runuser)
    exec runuser -u cloudron -- node /app/code/server.js
    ;;
chpst)
    exec chpst -u cloudron:cloudron node /app/code/server.js
    ;;
su-exec)
    exec su-exec cloudron:cloudron node /app/code/server.js
    ;;
wrapper)
    exec /app/pkg/run-as-app.sh
    ;;
wrapped-root)
    exec /app/pkg/run-as-root.sh
    ;;
root)
    exec node /app/code/server.js # want "SH005 exec node runs the app as root"
    ;;
nowait)
    gosu cloudron:cloudron node /app/code/server.js # want "SH004 the start script ends with gosu without exec.*write exec gosu cloudron:cloudron node"
    ;;
background)
    gosu cloudron:cloudron node /app/code/server.js &
    wait # want "SH004 the start script ends with wait without exec.*trap 'kill -TERM"
    ;;
echo)
    echo "unknown mode" # want "SH004 the start script ends with echo without exec.*end it with exec gosu cloudron:cloudron <the server>"
    ;;
*)
    exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf --nodaemon
    ;;
esac
