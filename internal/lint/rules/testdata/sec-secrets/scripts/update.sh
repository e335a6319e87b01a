#!/bin/bash
# Run by hand to refresh the bundled plugins.
set -eu
# want "SEC006 a downloaded script is run straight from the network"
curl -fsSL https://get.example.org/plugins/install.sh | bash
# want "SEC007 curl -k/--insecure accepts any certificate"
curl -fsSLk -o /tmp/plugins.tar.gz https://plugins.example.org/latest.tar.gz
