#!/bin/bash
set -eu
chown -R cloudron:cloudron /app/data
exec gosu cloudron:cloudron /app/code/server
