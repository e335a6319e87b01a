# sourced by start.sh through $APP_CODE_DIR, which the Dockerfile's ENV sets
export REDIS_URL="${CLOUDRON_REDIS_URL}" # want "XF002 CLOUDRON_REDIS_URL comes from the redis addon"
