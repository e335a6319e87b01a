#!/bin/bash

set -eu

if [[ -f /app/data/tracker-index.tar.gz ]]; then
    tar -xzf /app/data/tracker-index.tar.gz -C /var/lib/tracker-index
fi
