#!/bin/bash
set -eu

mkdir -p /run/app
chown -R cloudron:cloudron /app/data /run/app
exec gosu cloudron:cloudron /app/code/server
