#!/bin/bash
# The ldap add-on of the emulated Cloudron: an OpenLDAP server with the
# platform's tree (reference §3.2): users under ou=users,dc=cloudron, groups
# under ou=groups,dc=cloudron, one bind DN per app under ou=apps (added by
# cpk when an app is set up), and seeded test users. Listens on 3002.
set -eu
: "${LDAP_ROOT_PASSWORD:?}" "${LDAP_USER_PASSWORD:?}"
mkdir -p /var/lib/cpk-ldap /run/slapd
chown openldap:openldap /var/lib/cpk-ldap /run/slapd
# The platform's directory names a user's login in username (and has the
# objectclass user), as packages written for it search: (username=%uid).
# uid keeps the login too, for packages that search by it. The numbers
# below are this test directory's own.
cat > /etc/ldap/cpk-cloudron.schema <<'SCHEMA'
attributetype ( 1.3.6.1.4.1.59302.1.1 NAME 'username'
  DESC 'the Cloudron login name'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.59302.2.1 NAME 'user' SUP top AUXILIARY
  DESC 'a Cloudron user'
  MAY ( username ) )
SCHEMA
cat > /etc/ldap/cpk-slapd.conf <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/cpk-cloudron.schema
pidfile /run/slapd/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
suffix "dc=cloudron"
rootdn "cn=admin,dc=cloudron"
rootpw ${LDAP_ROOT_PASSWORD}
directory /var/lib/cpk-ldap
access to attrs=userPassword by dn.exact="gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth" manage by anonymous auth by * none
access to * by dn.exact="gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth" manage by users read by * none
CONF
seed() {
cat <<LDIF
dn: dc=cloudron
objectClass: dcObject
objectClass: organization
dc: cloudron
o: Cloudron

dn: ou=users,dc=cloudron
objectClass: organizationalUnit
ou: users

dn: ou=groups,dc=cloudron
objectClass: organizationalUnit
ou: groups

dn: ou=apps,dc=cloudron
objectClass: organizationalUnit
ou: apps

LDIF
for u in admin user; do
cat <<LDIF
dn: uid=${u},ou=users,dc=cloudron
objectClass: inetOrgPerson
objectClass: user
uid: ${u}
username: ${u}
cn: ${u}
sn: ${u}
givenName: ${u}
displayName: Test ${u}
mail: ${u}@cloudron.test
userPassword: ${LDAP_USER_PASSWORD}

LDIF
done
cat <<LDIF
dn: cn=users,ou=groups,dc=cloudron
objectClass: groupOfNames
cn: users
member: uid=admin,ou=users,dc=cloudron
member: uid=user,ou=users,dc=cloudron

dn: cn=admins,ou=groups,dc=cloudron
objectClass: groupOfNames
cn: admins
member: uid=admin,ou=users,dc=cloudron
LDIF
}
seed | slapadd -f /etc/ldap/cpk-slapd.conf
chown -R openldap:openldap /var/lib/cpk-ldap
echo "ldap: dc=cloudron on port 3002"
exec slapd -f /etc/ldap/cpk-slapd.conf -h "ldap://0.0.0.0:3002/ ldapi:///" -u openldap -g openldap -d 0
