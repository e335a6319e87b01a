#!/bin/sh
cd /app/code

if [ ! -f /app/data/.setup_done ]; then
  cp /app/code/config.default.json /app/data/config.json
  sed -i "s#DATABASE#${CLOUDRON_POSTGRESQL_URL}#" /app/data/config.json # want "SH008 \\$CLOUDRON_POSTGRESQL_URL is written into /app/data/config.json only on first run"
  touch /app/data/.setup_done
fi

echo "REDIS_URL=${CLOUDRON_REDIS_URL}" > /app/code/.env # want "SH007 the redirection > /app/code/.env writes /app/code/.env"
mkdir -p /app/code/uploads # want "SH007 mkdir writes /app/code/uploads"

while ! nc -z ${CLOUDRON_REDIS_HOST} ${CLOUDRON_REDIS_PORT}; do # want "SH010 this while loop waits without a limit"
  sleep 2
done

node /app/code/dist/worker.js & # want "SH009 node runs in the background and nothing waits for it"
exec node /app/code/dist/server.js --port 3000 # want "SH005 exec node runs the app as root"
