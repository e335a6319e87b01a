#!/bin/bash
set -eu
# A tiny package for cpk's build tests: a static page on port 8000, served
# as the cloudron user.
exec gosu cloudron:cloudron python3 -m http.server 8000 --directory /app/code/www
