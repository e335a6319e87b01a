set -eu # want "SH001 the start script has no #! line"
chown -R cloudron:cloudron /app/data
exec gosu cloudron:cloudron /app/code/server
