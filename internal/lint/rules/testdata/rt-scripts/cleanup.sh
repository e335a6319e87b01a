#!/bin/bash
set -eu

find /tmp -mindepth 1 -mtime +1 -delete
rm -f /app/data/uploads/*.partial
date > /app/code/last-cleanup # want "RT001 the redirection > /app/code/last-cleanup writes /app/code/last-cleanup \\(run by the scheduler task cleanup\\)"
