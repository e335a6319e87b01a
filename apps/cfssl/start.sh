#!/bin/bash
set -eu

# /app/data/ca: the CA's key and certificate, made on the first start and
# never again. /app/data/auth-key: the HMAC key signing requests must carry.
# /run/cfssl: the configuration, written on every start.
mkdir -p /app/data/ca /run/cfssl
chmod 0700 /app/data/ca

if [[ ! -s /app/data/ca/ca-key.pem ]]; then
    if [[ -e /app/data/ca/ca.pem ]]; then
        echo "==> /app/data/ca/ca.pem exists without its key ca-key.pem: refusing to make a new CA" >&2
        exit 1
    fi
    echo "==> First start: generating the CA key and certificate"
    jq -n --arg cn "CFSSL CA ${CLOUDRON_APP_DOMAIN}" \
        '{CN: $cn, key: {algo: "ecdsa", size: 256}, names: [{O: "CFSSL on Cloudron"}],
          ca: {expiry: "87600h"}}' > /run/cfssl/ca-csr.json
    rm -rf /app/data/ca/new && mkdir -p /app/data/ca/new
    (cd /app/data/ca/new && cfssl genkey -initca /run/cfssl/ca-csr.json | cfssljson -bare ca)
    # the certificate first, the key last: the key is what marks a CA made
    mv /app/data/ca/new/ca.pem /app/data/ca/new/ca.csr /app/data/ca/
    mv /app/data/ca/new/ca-key.pem /app/data/ca/ca-key.pem
    rmdir /app/data/ca/new
fi

if [[ ! -s /app/data/auth-key ]]; then
    echo "==> First start: generating the signing API key (/app/data/auth-key)"
    openssl rand -hex 16 > /app/data/auth-key
fi

# Signing policy, on every start: the default profile (TLS server and
# client) and the profiles server, client and peer, each valid one year.
# Every profile needs the auth key, so only the authenticated endpoint
# (authsign) signs. "cloudron" names the entry of auth_keys: the key itself
# is /app/data/auth-key, made on the first start.
jq -n '
  def profile(usages): {expiry: "8760h", usages: (["signing", "digital signature", "key encipherment"] + usages), auth_key: "cloudron"};
  {
    signing: {
      default: profile(["server auth", "client auth"]),
      profiles: {
        server: profile(["server auth"]),
        client: profile(["client auth"]),
        peer: profile(["server auth", "client auth"])
      }
    },
    auth_keys: {cloudron: {type: "standard", key: "file:/app/data/auth-key"}}
  }' > /run/cfssl/config.json

# The certificate database (issued and revoked certificates) on the
# postgresql addon, on every start (the credentials may change).
pg_quote() { local v=${1//\\/\\\\}; printf "'%s'" "${v//\'/\\\'}"; }
dsn="host=$(pg_quote "${CLOUDRON_POSTGRESQL_HOST}") port=${CLOUDRON_POSTGRESQL_PORT}"
dsn+=" dbname=$(pg_quote "${CLOUDRON_POSTGRESQL_DATABASE}") user=$(pg_quote "${CLOUDRON_POSTGRESQL_USERNAME}")"
dsn+=" password=$(pg_quote "${CLOUDRON_POSTGRESQL_PASSWORD}") sslmode=disable"
jq -n --arg dsn "$dsn" '{driver: "postgres", data_source: $dsn}' > /run/cfssl/db.json

# The database schema: CFSSL's own migrations (certdb/pg), each applied once,
# in its own transaction, recorded in cfssl_schema_migrations.
export PGHOST="${CLOUDRON_POSTGRESQL_HOST}" PGPORT="${CLOUDRON_POSTGRESQL_PORT}" \
    PGDATABASE="${CLOUDRON_POSTGRESQL_DATABASE}" PGUSER="${CLOUDRON_POSTGRESQL_USERNAME}" \
    PGPASSWORD="${CLOUDRON_POSTGRESQL_PASSWORD}"
psql -q -v ON_ERROR_STOP=1 -c "CREATE TABLE IF NOT EXISTS cfssl_schema_migrations
    (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
for f in /app/code/migrations/*.sql; do
    version=$(basename "$f" .sql)
    done_already=$(psql -tA -v ON_ERROR_STOP=1 -v v="$version" \
        <<< "SELECT count(*) FROM cfssl_schema_migrations WHERE version = :'v'")
    if [[ "$done_already" == "0" ]]; then
        echo "==> Database: applying migration $version"
        { sed '/^-- +goose Down/,$d' "$f"; echo "INSERT INTO cfssl_schema_migrations (version) VALUES (:'v');"; } \
            | psql -q -1 -v ON_ERROR_STOP=1 -v v="$version"
    fi
done
unset PGPASSWORD

chown -R cloudron:cloudron /app/data /run/cfssl
chmod 0600 /app/data/ca/ca-key.pem /app/data/auth-key /run/cfssl/db.json

# Endpoints that would sign without the auth key (sign, newcert), act on
# the database without one (revoke, certadd), make a throw-away CA
# (init_ca), or connect to hosts named in the request (scan, scaninfo,
# bundle) are off.
echo "==> Starting cfssl serve on port 8888"
exec gosu cloudron:cloudron cfssl serve -address 0.0.0.0 -port 8888 \
    -ca /app/data/ca/ca.pem -ca-key /app/data/ca/ca-key.pem \
    -config /run/cfssl/config.json -db-config /run/cfssl/db.json \
    -disable sign,newcert,revoke,certadd,init_ca,scan,scaninfo,bundle
