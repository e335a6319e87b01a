#!/bin/bash
# Sourced by start.sh: the app's environment, written on every start.
echo "ORIGIN=${CLOUDRON_APP_ORIGIN}" > /app/code/app.env
echo "${CLOUDRON_APP_ORIGIN}" > /app/code/origin.txt # want "RT001 .*writes /app/code/origin.txt \\(sourced by start.sh\\)"
printf '%s\n' "${CLOUDRON_MAIL_SMTP_SERVER}" | tee /run/app/smtp >/dev/null
