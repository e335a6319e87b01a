#!/bin/bash

set -eu

echo "==> Running housekeeping"
exec gosu www-data:www-data php /app/code/bin/console housekeeping
