"""Regenerates the Cloudron-specific part of OctoPrint's config.yaml.

Run by start.sh on every start, before OctoPrint, as the app user. The file
is OctoPrint's own (the admin's settings live in it too), so only the keys
below are set; everything else is kept as OctoPrint and the admin left it.
"""

import os
import sys

import yaml

CONFIG = "/app/data/config.yaml"

# Plugins that only talk to the internet (update checks, the plugin
# repository and installer, anonymous usage tracking, error reporting,
# news feeds) or make no sense in a container (Raspberry Pi support,
# zeroconf announcements on a network no printer can see).
DISABLED_PLUGINS = [
    "announcements",
    "discovery",
    "errortracking",
    "pi_support",
    "pluginmanager",
    "softwareupdate",
    "tracking",
]


def section(config, *keys):
    for key in keys:
        value = config.get(key)
        if not isinstance(value, dict):
            value = config[key] = {}
        config = value
    return config


def main():
    config = {}
    if os.path.exists(CONFIG):
        with open(CONFIG, encoding="utf-8") as f:
            config = yaml.safe_load(f) or {}
    if not isinstance(config, dict):
        sys.exit(f"{CONFIG} does not hold a mapping")

    server = section(config, "server")
    server["host"] = "0.0.0.0"
    server["port"] = 5000
    # The first-run wizard is done by start.sh: the admin account exists,
    # and every question the wizard would ask is answered here.
    server["firstRun"] = False
    section(server, "onlineCheck")["enabled"] = False
    section(server, "pluginBlacklist")["enabled"] = False
    section(server, "pythonEolCheck")["enabled"] = False
    # Every client comes through Cloudron's reverse proxy, from the internet
    # by design; the "external network" warning would greet every login.
    section(server, "ipCheck")["enabled"] = False

    # Cloudron's reverse proxy terminates TLS and passes the original scheme
    # and host; its address is trusted for the client's X-Forwarded-For.
    proxy = section(server, "reverseProxy")
    proxy["schemeHeader"] = "X-Forwarded-Proto"
    proxy["hostHeader"] = "X-Forwarded-Host"
    proxy_ip = os.environ.get("CLOUDRON_PROXY_IP", "")
    proxy["trustedProxies"] = [proxy_ip] if proxy_ip else []

    # Logs go to stdout (OctoPrint's console handler) and to /run for the
    # web interface's log viewer; compiled web assets are made on every
    # start anyway. Neither belongs in the backup.
    folder = section(config, "folder")
    folder["logs"] = "/run/octoprint/logs"
    folder["generated"] = "/run/octoprint/generated"

    plugins = section(config, "plugins")
    disabled = plugins.get("_disabled")
    if not isinstance(disabled, list):
        disabled = []
    plugins["_disabled"] = sorted(set(disabled) | set(DISABLED_PLUGINS))
    section(plugins, "tracking")["enabled"] = False
    # The health check plugin's Python end-of-life check fetches a list
    # from octoprint.org, its freshness check asks the software update
    # plugin (off); the admin may switch off further checks.
    health = section(plugins, "health_check")
    health_disabled = health.get("disabled")
    if not isinstance(health_disabled, list):
        health_disabled = []
    health["disabled"] = sorted(set(health_disabled) | {"octoprint_freshness", "python_eol"})

    tmp = CONFIG + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        yaml.safe_dump(config, f, default_flow_style=False, allow_unicode=True)
    os.chmod(tmp, 0o600)
    os.replace(tmp, CONFIG)


if __name__ == "__main__":
    main()
