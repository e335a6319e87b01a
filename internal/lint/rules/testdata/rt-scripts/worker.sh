#!/bin/bash
set -eu

mkdir -p /tmp/worker
touch /var/lib/worker.lock # want "RT001 touch writes /var/lib/worker.lock \\(run by the supervisor program worker\\)"
exec /app/code/bin/worker --queue /tmp/worker
