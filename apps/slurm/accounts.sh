#!/bin/bash
set -eu

# Once per start, as SlurmUser (cloudron): the accounting database knows the account
# "cloudron" and the user cloudron (the user jobs run as) in it, with
# administrator rights, so the admin token's user may manage the cluster.
for _ in $(seq 1 90); do
    if sacctmgr --noheader --parsable2 show cluster format=cluster 2>/dev/null | grep -qx cloudron; then
        break
    fi
    sleep 1
done
if ! sacctmgr --noheader --parsable2 show account cloudron format=account | grep -qx cloudron; then
    sacctmgr --immediate add account cloudron cluster=cloudron description="Cloudron app" organization=cloudron
fi
if ! sacctmgr --noheader --parsable2 show user cloudron format=user | grep -qx cloudron; then
    sacctmgr --immediate add user cloudron defaultaccount=cloudron adminlevel=Administrator
fi
echo "==> accounting: user cloudron in account cloudron, $(sacctmgr --noheader --parsable2 show user cloudron format=adminlevel)"
# The health check answers from now on: jobs submitted before this would
# have no account.
touch /run/slurm/accounts.ready
