#!/bin/sh
chown -R cloudron:cloudron /app/data
gosu cloudron:cloudron /app/code/server --port 8000 # want "SH004 .*ends with gosu without exec: .*write exec gosu cloudron:cloudron /app/code/server --port 8000"
