#!/bin/bash
set -eu
exec node /app/code/server.js # want "SH005 exec node runs the app as root"
