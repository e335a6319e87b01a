#!/bin/bash
set -eu

# Jenkins keeps everything in JENKINS_HOME (/app/data/jenkins_home). Its
# Cloudron settings (URL, mail, LDAP login, agent port) are applied from the
# environment on every start by init.groovy.d/cloudron.groovy.

export JENKINS_HOME=/app/data/jenkins_home
mkdir -p "${JENKINS_HOME}/init.groovy.d" /run/jenkins/war /run/jenkins/tmp

if [[ ! -f /app/data/.initialized ]]; then
    echo "==> First run: Jenkins writes its unlock password to ${JENKINS_HOME}/secrets/initialAdminPassword"
    touch /app/data/.initialized
fi

# The settings script is the package's: linked, so an update brings the new one.
ln -sf /app/pkg/init.groovy.d/cloudron.groovy "${JENKINS_HOME}/init.groovy.d/cloudron.groovy"

chown -R cloudron:cloudron /app/data /run/jenkins

# The heap follows the container's memory limit (cgroup v2, else v1): a
# fixed -Xmx above the limit gets Jenkins killed by the kernel.
java_opts=(-Djava.awt.headless=true -Djava.io.tmpdir=/run/jenkins/tmp -Dhudson.lifecycle=hudson.lifecycle.ExitLifecycle)
limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || echo max)
if [[ "${limit}" =~ ^[0-9]+$ ]] && (( limit < 68719476736 )); then
    java_opts+=("-XX:MaxRAM=${limit}" "-XX:MaxRAMPercentage=75")
fi

# Jenkins migrates its own configuration and plugin data when it starts.
echo "==> Starting Jenkins"
exec gosu cloudron:cloudron java "${java_opts[@]}" -jar /app/code/jenkins.war \
    --httpPort=8080 --httpListenAddress=0.0.0.0 --webroot=/run/jenkins/war
