#!/bin/bash
set -eu
chown -R cloudron:cloudron /app/data
if [[ ! -f /app/data/.initialized ]]; then # want "SH013 the start script does not parse as bash: `if` statement must end with `fi`"
    touch /app/data/.initialized
exec gosu cloudron:cloudron /app/code/server
