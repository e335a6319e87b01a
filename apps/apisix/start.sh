#!/bin/bash
set -eu

# APISIX's config.yaml is written into /run on every start from the
# platform's variables and the admin key made on first run; etcd keeps its
# data in /var/lib/etcd (a persistentDir, backed up through a snapshot).

mkdir -p /run/apisix/conf /run/apisix/logs /var/lib/etcd
for d in client_body_temp proxy_temp fastcgi_temp uwsgi_temp scgi_temp; do
    mkdir -p "/run/apisix/${d}"
done

if [[ ! -f /app/data/.initialized ]]; then
    echo "==> First run: creating the Admin API key"
    openssl rand -hex 24 > /app/data/admin_key
    touch /app/data/.initialized
fi

echo "==> Writing /run/apisix/conf/config.yaml"
cp -r /app/pkg/conf.dist/. /run/apisix/conf/
umask 077
cat > /run/apisix/conf/config.yaml <<YAML
apisix:
  node_listen: 9080
  enable_ipv6: false
  # The status API answers the platform's health check (/cloudron-health).
  status:
    ip: 127.0.0.1
    port: 7085

deployment:
  role: traditional
  role_traditional:
    config_provider: etcd
  admin:
    admin_key:
      - name: admin
        key: $(cat /app/data/admin_key)
        role: admin
    allow_admin:
      - 0.0.0.0/0
    admin_listen:
      ip: 0.0.0.0
      port: 9180
  etcd:
    host:
      - "http://127.0.0.1:2379"
    prefix: /apisix
    timeout: 30

nginx_config:
  error_log: /dev/stderr
  http:
    access_log: /dev/stdout
    real_ip_header: X-Forwarded-For
    real_ip_from:
      - ${CLOUDRON_PROXY_IP:-172.18.0.1}
  http_server_configuration_snippet: |
    location = /cloudron-health {
        proxy_pass http://127.0.0.1:7085/status/ready;
    }
YAML
umask 022

chown -R cloudron:cloudron /app/data /var/lib/etcd /run/apisix

# APISIX has no migrations of its own: apisix-run.sh generates nginx.conf
# (apisix init) and writes APISIX's keys into etcd (apisix init_etcd) once
# etcd answers, on every start.
echo "==> Starting etcd and APISIX"
exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf --nodaemon -i apisix
