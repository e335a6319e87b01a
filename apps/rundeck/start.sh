#!/bin/bash
set -eu

# Rundeck's configuration is written into /run/rundeck on every start, from
# the platform's variables (which may change on any restart) and the secrets
# made once on first run. Its state lives in /app/data.

mkdir -p /run/rundeck/etc /run/rundeck/config /run/rundeck/logs /run/rundeck/tmp /run/rundeck/work \
    /app/data/projects /app/data/var /app/data/libext /app/data/server-data /app/data/ssh

if [[ ! -f /app/data/.initialized ]]; then
    echo "==> First run: creating the admin password, the server id and the key storage secret"
    openssl rand -hex 12 > /app/data/admin_password
    cat /proc/sys/kernel/random/uuid > /app/data/server_uuid
    openssl rand -hex 32 > /app/data/storage_secret
    ssh-keygen -q -t ed25519 -N '' -f /app/data/ssh/id_ed25519
    touch /app/data/.initialized
fi
# Plugins shipped with Rundeck, without replacing the ones the admin added.
cp -rn /app/pkg/libext.dist/. /app/data/libext/

echo "==> Writing the configuration into /run/rundeck"
cp -r /app/pkg/etc.dist/. /run/rundeck/etc/
cp /app/pkg/cloudron.aclpolicy /run/rundeck/etc/cloudron.aclpolicy
umask 077

cat > /run/rundeck/etc/framework.properties <<PROPS
rdeck.base=/app/code/rundeck
framework.server.name=${CLOUDRON_APP_DOMAIN}
framework.server.hostname=${CLOUDRON_APP_DOMAIN}
framework.server.port=443
framework.server.url=${CLOUDRON_APP_ORIGIN}
framework.server.uuid=$(cat /app/data/server_uuid)
framework.etc.dir=/run/rundeck/etc
framework.projects.dir=/app/data/projects
framework.var.dir=/app/data/var
framework.tmp.dir=/run/rundeck/tmp
framework.logs.dir=/app/data/var/logs
framework.libext.dir=/app/data/libext
framework.ssh.keypath=/app/data/ssh/id_ed25519
framework.ssh.user=cloudron
framework.ssh-connect-timeout=0
framework.ssh-command-timeout=0
PROPS

cat > /run/rundeck/config/rundeck-config.properties <<PROPS
loglevel.default=INFO
rdeck.base=/app/code/rundeck
rss.enabled=false
server.address=0.0.0.0
server.port=4440
server.useForwardHeaders=true
grails.serverURL=${CLOUDRON_APP_ORIGIN}
dataSource.driverClassName=org.postgresql.Driver
dataSource.url=jdbc:postgresql://${CLOUDRON_POSTGRESQL_HOST}:${CLOUDRON_POSTGRESQL_PORT}/${CLOUDRON_POSTGRESQL_DATABASE}
dataSource.username=${CLOUDRON_POSTGRESQL_USERNAME}
dataSource.password=${CLOUDRON_POSTGRESQL_PASSWORD}
rundeck.projectsStorageType=db
rundeck.storage.provider.1.type=db
rundeck.storage.provider.1.path=keys
rundeck.storage.converter.1.type=jasypt-encryption
rundeck.storage.converter.1.path=keys
rundeck.storage.converter.1.config.encryptorType=custom
rundeck.storage.converter.1.config.password=$(cat /app/data/storage_secret)
rundeck.storage.converter.1.config.algorithm=PBEWITHSHA256AND128BITAES-CBC-BC
rundeck.storage.converter.1.config.provider=BC
rundeck.security.useHMacRequestTokens=true
rundeck.security.apiCookieAccess.enabled=true
grails.mail.host=${CLOUDRON_MAIL_SMTP_SERVER}
grails.mail.port=${CLOUDRON_MAIL_SMTP_PORT}
grails.mail.username=${CLOUDRON_MAIL_SMTP_USERNAME}
grails.mail.password=${CLOUDRON_MAIL_SMTP_PASSWORD}
grails.mail.default.from=${CLOUDRON_MAIL_FROM}
PROPS

# The local admin account (also the way in without SSO), then the admin's
# own accounts, lines "name:password,user" in /app/data/users.properties.
echo "admin:$(cat /app/data/admin_password),user,admin" > /run/rundeck/config/realm.properties
if [[ -f /app/data/users.properties ]]; then
    cat /app/data/users.properties >> /run/rundeck/config/realm.properties
fi

# Login: the local accounts, and Cloudron's LDAP when installed with SSO.
login_module=localusers
if [[ -n "${CLOUDRON_LDAP_URL:-}" ]]; then
    login_module=cloudron
fi
cat > /run/rundeck/config/jaas-loginmodule.conf <<JAAS
localusers {
    org.eclipse.jetty.jaas.spi.PropertyFileLoginModule required
    debug="false"
    file="/run/rundeck/config/realm.properties";
};

cloudron {
    com.dtolabs.rundeck.jetty.jaas.JettyCachingLdapLoginModule sufficient
    debug="false"
    contextFactory="com.sun.jndi.ldap.LdapCtxFactory"
    providerUrl="${CLOUDRON_LDAP_URL:-}"
    bindDn="${CLOUDRON_LDAP_BIND_DN:-}"
    bindPassword="${CLOUDRON_LDAP_BIND_PASSWORD:-}"
    authenticationMethod="simple"
    forceBindingLogin="true"
    userBaseDn="${CLOUDRON_LDAP_USERS_BASE_DN:-}"
    userRdnAttribute="username"
    userIdAttribute="username"
    userPasswordAttribute="userPassword"
    userObjectClass="user"
    roleBaseDn="${CLOUDRON_LDAP_GROUPS_BASE_DN:-}"
    roleNameAttribute="cn"
    roleUsernameMemberAttribute="memberuid"
    roleObjectClass="group"
    supplementalRoles="user,cloudron"
    cacheDurationMillis="300000"
    reportStatistics="false";

    org.eclipse.jetty.jaas.spi.PropertyFileLoginModule sufficient
    debug="false"
    file="/run/rundeck/config/realm.properties";
};
JAAS
umask 022

chown -R cloudron:cloudron /app/data /run/rundeck

# The heap follows the container's memory limit (cgroup v2, else v1).
java_opts=(-Djava.io.tmpdir=/run/rundeck/tmp -Drdeck.base=/app/code/rundeck
    -Drundeck.server.configDir=/run/rundeck/config -Drundeck.server.workDir=/run/rundeck/work
    -Drundeck.config.location=/run/rundeck/config/rundeck-config.properties
    -Dserver.http.port=4440 -Dserver.http.host=0.0.0.0
    -Drundeck.jaaslogin=true -Djava.security.auth.login.config=/run/rundeck/config/jaas-loginmodule.conf
    "-Dloginmodule.name=${login_module}")
limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || echo max)
if [[ "${limit}" =~ ^[0-9]+$ ]] && (( limit < 68719476736 )); then
    java_opts+=("-XX:MaxRAM=${limit}" "-XX:MaxRAMPercentage=75")
fi

# Rundeck applies its database migrations (Liquibase) when it starts.
echo "==> Starting Rundeck"
cd /app/code/rundeck
exec gosu cloudron:cloudron java "${java_opts[@]}" -jar /app/code/rundeck.war --skipinstall -b /app/code/rundeck
