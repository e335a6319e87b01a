#!/bin/bash
set -eu
mkdir -p /app/data/sessions/php
chown -R cloudron:cloudron /app/data
exec gosu cloudron:cloudron /app/code/server
