#!/bin/bash

set -eu

echo "==> Dumping the search index"
tar -czf /app/data/tracker-index.tar.gz -C /var/lib/tracker-index .
