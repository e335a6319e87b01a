#!/bin/bash
# The mailboxes of cpk's mail server:
#   mailbox.sh set KEY ADDRESS     the password on stdin; KEY names the Maildir
#                                  (/var/mail/vhosts/KEY), which keeps its mail
#                                  when the address changes (a move)
#   mailbox.sh remove KEY          the mailbox and its mail
set -euo pipefail
PASSWD=/var/mail/cpk/passwd
MAP=/var/mail/cpk/vmailbox
exec 9>/var/mail/cpk/lock
flock 9

# rewrite FILE KEY ADDRESS: every line of the passwd file but KEY's and
# ADDRESS's, plus stdin.
rewrite() {
    local file=$1 key=$2 address=${3:-} tmp
    tmp=$(mktemp "$file.XXXXXX")
    { awk -F: -v home="/var/mail/vhosts/$key" -v addr="$address" '$6 != home && $1 != addr' "$file"; cat; } > "$tmp"
    chmod 0640 "$tmp"
    chgrp dovecot "$tmp" 2>/dev/null || true
    mv "$tmp" "$file"
}

# the Postfix map of valid recipients, from the passwd file.
write_map() {
    cut -d: -f1 "$PASSWD" | sed 's/$/ OK/' > "$MAP.tmp" && mv "$MAP.tmp" "$MAP"
    if postfix status >/dev/null 2>&1; then postfix reload >/dev/null 2>&1; fi
}

case "${1:-}" in
set)
    key=$2 address=$3
    [[ $key =~ ^[a-zA-Z0-9._-]+$ ]] || { echo "bad mailbox key: $key" >&2; exit 2; }
    [[ $address =~ ^[^:[:space:]]+@[^:[:space:]]+$ ]] || { echo "bad address: $address" >&2; exit 2; }
    IFS= read -r password
    [[ -n $password && $password != *:* ]] || { echo "bad password" >&2; exit 2; }
    touch "$PASSWD"
    printf '%s:{PLAIN}%s:5000:5000::/var/mail/vhosts/%s::\n' "$address" "$password" "$key" | rewrite "$PASSWD" "$key" "$address"
    install -d -o vmail -g vmail "/var/mail/vhosts/$key"
    write_map
    ;;
remove)
    key=$2
    [[ $key =~ ^[a-zA-Z0-9._-]+$ ]] || { echo "bad mailbox key: $key" >&2; exit 2; }
    touch "$PASSWD"
    rewrite "$PASSWD" "$key" < /dev/null
    rm -rf "/var/mail/vhosts/$key"
    write_map
    ;;
*)
    echo "usage: mailbox.sh set KEY ADDRESS | remove KEY" >&2
    exit 2
    ;;
esac
