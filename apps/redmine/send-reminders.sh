#!/bin/bash
# The scheduler addon's task "reminders": Redmine mails each user the open
# issues assigned to them that are due within the next 7 days. The task
# runs in a sibling container of the app, with its environment and its /run
# (where start.sh wrote the configuration).
set -eu
cd /usr/share/redmine
exec gosu cloudron:cloudron env HOME=/run/redmine/home bundle exec rake redmine:send_reminders days=7
