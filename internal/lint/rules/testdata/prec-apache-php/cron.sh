#!/bin/bash

set -eu

exec gosu www-data:www-data php /app/code/bin/cron.php
