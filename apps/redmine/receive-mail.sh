#!/bin/bash
# The scheduler addon's task "receive_mail": Redmine reads the app's mailbox
# (recvmail addon) over IMAP and turns each mail into an issue or a reply
# (rake redmine:email:receive_imap). Redmine deletes the mails it handled.
# The task runs in a sibling container of the app, with its environment and
# its /run (where start.sh wrote the configuration).
#
# Redmine's own options of the task (project, tracker, unknown_user,
# no_permission_check, allow_override, default_group, no_account_notice,
# no_notification, move_on_success, move_on_failure, folder) may be set, one
# key=value a line, in /app/data/receive-mail.conf; without it Redmine's
# defaults hold: only mail from a known user is taken, into the project its
# body names ("Project: <identifier>").
set -eu
if [[ -z "${CLOUDRON_MAIL_IMAP_SERVER:-}" ]]; then
    echo "==> The app's mailbox is disabled (no recvmail addon variables): nothing to read"
    exit 0
fi

# rake takes its options from the environment (key=value arguments would
# show the password in the process list). Plain IMAP: Redmine turns TLS on
# when "ssl" or "starttls" is set at all, whatever its value.
opts=(host="${CLOUDRON_MAIL_IMAP_SERVER:-}" port="${CLOUDRON_MAIL_IMAP_PORT:-}"
      username="${CLOUDRON_MAIL_IMAP_USERNAME:-}" password="${CLOUDRON_MAIL_IMAP_PASSWORD:-}")
conf=/app/data/receive-mail.conf
if [[ -f $conf ]]; then
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line%$'\r'}
        [[ -z $line || $line == \#* ]] && continue
        key=${line%%=*}
        case $key in
        project|tracker|status|category|priority|assigned_to|fixed_version|private|unknown_user|no_permission_check|allow_override|default_group|no_account_notice|no_notification|move_on_success|move_on_failure|folder)
            opts+=("$line") ;;
        *)
            echo "==> $conf: ignoring unknown option \"$key\"" >&2 ;;
        esac
    done < "$conf"
fi

cd /usr/share/redmine
echo "==> Reading the mailbox ${CLOUDRON_MAIL_IMAP_USERNAME:-} on ${CLOUDRON_MAIL_IMAP_SERVER:-}:${CLOUDRON_MAIL_IMAP_PORT:-}"
exec gosu cloudron:cloudron env HOME=/run/redmine/home "${opts[@]}" bundle exec rake redmine:email:receive_imap
