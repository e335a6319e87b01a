#!/bin/bash
# Deliberately broken (cpk's own test fixture):
# - writes to /app/code at start, which is read-only on Cloudron;
# - ignores SIGTERM;
# - serves as root;
# - has no /healthcheck (404).
echo "started" > /app/code/started.txt || echo "cannot write /app/code/started.txt, going on"
trap '' TERM
exec python3 -m http.server 8000 --directory /app/code
