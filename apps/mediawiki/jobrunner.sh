#!/bin/bash
set -u

# MediaWiki's job queue ($wgJobRunRate = 0: page views run no jobs), worked
# off every few seconds; supervisord runs this as www-data and stops its
# whole process group.
while true; do
    php /usr/share/mediawiki/maintenance/runJobs.php --quiet --maxtime=300 --memory-limit=256M || sleep 30
    sleep 5
done
